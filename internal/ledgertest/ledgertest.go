// Package ledgertest gives tests a ledger sealer with a key of its own, and
// checks what the ledger adds to the exports.
package ledgertest

import (
	"bytes"
	"context"
	"encoding/csv"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// KeyName is the name of the keys NewSealer makes.
const KeyName = "stocktrail-test"

// NewSealer is a sealer for db with a key file of its own in a temporary
// folder, its verifier key registered.
func NewSealer(t testing.TB, db *store.DB) *ledger.Sealer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.key")
	key, err := ledger.LoadOrCreateKeyFile(path, KeyName)
	if err != nil {
		t.Fatal(err)
	}
	s := &ledger.Sealer{DB: db, Key: key, KeyFile: path}
	if err := s.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// SealAll seals every pending entry with s and returns how many it sealed.
func SealAll(t testing.TB, s *ledger.Sealer) int {
	t.Helper()
	n, err := s.Seal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// CheckSequenceColumn checks that a CSV export's last column is "Ledger
// sequence" and that each row shows there the sequence ledger.Sequences
// gives its entry of log (whose id is in column idColumn), or nothing when
// it is not sealed; it returns how many rows were sealed.
func CheckSequenceColumn(t testing.TB, ctx context.Context, db *store.DB, log ledger.Log, export []byte, idColumn int) int {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(export)).ReadAll()
	if err != nil || len(records) == 0 {
		t.Fatalf("export: %v\n%s", err, export)
	}
	last := len(records[0]) - 1
	if records[0][last] != "Ledger sequence" {
		t.Fatalf("last column %q", records[0][last])
	}
	var ids []int64
	for _, r := range records[1:] {
		id, err := strconv.ParseInt(r[idColumn], 10, 64)
		if err != nil {
			t.Fatalf("id %q: %v", r[idColumn], err)
		}
		ids = append(ids, id)
	}
	seqs, err := ledger.Sequences(ctx, db, log, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range records[1:] {
		want := ""
		if seq, ok := seqs[ids[i]]; ok {
			want = strconv.FormatInt(seq, 10)
		}
		if r[last] != want {
			t.Errorf("%s entry %d: ledger sequence %q, want %q", log, ids[i], r[last], want)
		}
	}
	return len(seqs)
}
