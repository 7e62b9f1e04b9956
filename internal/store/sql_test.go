package store_test

import (
	"context"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestWhereNumbersPlaceholdersInOrder(t *testing.T) {
	w := store.NewWhere("workspace_id = ?", int64(7))
	w.And("name LIKE ? ESCAPE '\\'", "%a%").And("a = ? OR b = ?", 1, 2).And("data ?? 'k'")
	limit := w.Add(50)
	if got, want := w.String(), `workspace_id = $1 AND name LIKE $2 ESCAPE '\' AND a = $3 OR b = $4 AND data ? 'k'`; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if limit != "$5" || len(w.Args) != 5 || w.Args[4] != 50 {
		t.Fatalf("limit %q, args %v", limit, w.Args)
	}
}

func TestWherePanicsOnMiscountedValues(t *testing.T) {
	for _, c := range []struct {
		cond string
		vals []any
	}{{"a = ? AND b = ?", []any{1}}, {"a = ?", []any{1, 2}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("And(%q, %v) did not panic", c.cond, c.vals)
				}
			}()
			store.NewWhere("x = 1").And(c.cond, c.vals...)
		}()
	}
}

// TestPrimitivesOnBothEngines runs the engine-dependent primitives against
// real databases: a list condition, empty and not, and a locking read.
func TestPrimitivesOnBothEngines(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE prim_test (id BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO prim_test (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')`); err != nil {
			t.Fatal(err)
		}
		count := func(w *store.Where) int {
			var n int
			if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM prim_test WHERE `+w.String(), w.Args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", w, err)
			}
			return n
		}
		if n := count(store.NewWhere("id > ?", 0).And(store.In(db, "id", []int64{1, 3, 9}))); n != 2 {
			t.Errorf("ids in [1 3 9]: %d rows, want 2", n)
		}
		if n := count(store.NewWhere("id > ?", 0).And(store.In(db, "name", []string{"b"}))); n != 1 {
			t.Errorf("names in [b]: %d rows, want 1", n)
		}
		if n := count(store.NewWhere("id > ?", 0).And(store.In[int64](db, "id", nil))); n != 0 {
			t.Errorf("ids in []: %d rows, want 0", n)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if got, want := tx.ForUpdate("p") != "", db.ConcurrentWriters(); got != want {
				t.Errorf("ForUpdate given: %v, concurrent writers: %v", got, want)
			}
			var name string
			return tx.QueryRowContext(ctx, `SELECT p.name FROM prim_test p WHERE p.id = $1`+tx.ForUpdate("p"), 2).Scan(&name)
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
