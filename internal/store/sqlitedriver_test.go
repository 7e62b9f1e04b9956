package store_test

import (
	"context"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// Arguments go to the placeholders their numbers name, whatever order the
// statement names them in, and a dollar sign inside a literal is left
// alone. (SQLite numbers $N by first appearance; mattn's driver bound the
// first argument to whichever placeholder came first.)
func TestPlaceholdersBindByNumber(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var got string
		if err := db.Read().QueryRowContext(ctx, `SELECT $3 || '-' || $1 || '-$1-' || $2`, "a", "b", "c").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := "c-a-$1-b"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return tx.QueryRowContext(ctx, `SELECT $2 || $1`, "1", "2").Scan(&got)
		}); err != nil {
			t.Fatal(err)
		}
		if got != "21" {
			t.Errorf("in a transaction: got %q, want \"21\"", got)
		}
	})
}
