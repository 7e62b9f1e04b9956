package store_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestOneServerPerSQLiteFile: a second claim on one SQLite file is refused,
// naming the process that serves it, until the first handle closes; on
// PostgreSQL both nodes serve.
func TestOneServerPerSQLiteFile(t *testing.T) {
	first, second := storetest.OpenTwice(t, store.SQLite)
	if err := first.ClaimServing(); err != nil {
		t.Fatal(err)
	}
	err := second.ClaimServing()
	if !errors.Is(err, store.ErrServedElsewhere) || !strings.Contains(err.Error(), "(pid "+strconv.Itoa(os.Getpid())+")") ||
		!strings.Contains(err.Error(), first.Location) {
		t.Fatalf("second server on one SQLite file: %v", err)
	}
	first.Close()
	if err := second.ClaimServing(); err != nil {
		t.Fatalf("after the first server closed: %v", err)
	}

	pgFirst, pgSecond := storetest.OpenTwice(t, store.Postgres)
	for _, db := range []*store.DB{pgFirst, pgSecond} {
		if err := db.ClaimServing(); err != nil {
			t.Fatalf("PostgreSQL node: %v", err)
		}
	}
}
