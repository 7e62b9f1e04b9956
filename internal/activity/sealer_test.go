package activity_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// newSealer is a ledger sealer for db with a key of its own.
func newSealer(t *testing.T, db *store.DB) *ledger.Sealer {
	t.Helper()
	key, err := ledger.LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "ledger.key"), "test-key")
	if err != nil {
		t.Fatal(err)
	}
	s := &ledger.Sealer{DB: db, Key: key}
	if err := s.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}
