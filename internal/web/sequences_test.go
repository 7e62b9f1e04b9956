package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"testing"

	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// checkSequenceColumn checks that the CSV export's last column is "Ledger
// sequence" and that each row shows there the sequence ledger.Sequences
// gives its entry of log (whose id is in column idColumn), or nothing when
// it is not sealed; it returns how many rows were sealed.
func checkSequenceColumn(t *testing.T, ctx context.Context, db *store.DB, log ledger.Log, export []byte, idColumn int) int {
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
