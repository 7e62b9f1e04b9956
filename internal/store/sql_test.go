package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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

// TestForShareLetsSharersInAndKeepsWritersOut reads with ForShare on both
// engines and, where writers run concurrently, checks that the lock admits
// another share lock but not an update lock while it is held.
func TestForShareLetsSharersInAndKeepsWritersOut(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE share_test (id BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO share_test (id, name) VALUES (1, 'a')`); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if got, want := tx.ForShare() != "", db.ConcurrentWriters(); got != want {
				t.Errorf("ForShare given: %v, concurrent writers: %v", got, want)
			}
			var name string
			if err := tx.QueryRowContext(ctx, `SELECT s.name FROM share_test s WHERE s.id = $1`+tx.ForShare("s"), 1).Scan(&name); err != nil {
				return err
			}
			if !db.ConcurrentWriters() {
				return nil
			}
			// From another connection, while tx holds its share lock.
			if err := db.Read().QueryRowContext(ctx, `SELECT name FROM share_test WHERE id = 1 FOR SHARE NOWAIT`).Scan(&name); err != nil {
				t.Errorf("a second share lock was refused: %v", err)
			}
			if err := db.Read().QueryRowContext(ctx, `SELECT name FROM share_test WHERE id = 1 FOR UPDATE NOWAIT`).Scan(&name); err == nil {
				t.Error("an update lock was granted while the share lock was held")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// GroupsByHashing says what the planner does with a GROUP BY on a column no
// index orders: hash the groups, or sort the rows in a temporary b-tree.
func TestGroupsByHashingMatchesThePlanner(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE grouping_test (id BIGINT PRIMARY KEY, k TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		const query = `SELECT k, COUNT(*) FROM grouping_test GROUP BY k`
		rows, err := db.Read().QueryContext(ctx, store.Pick(db, `EXPLAIN QUERY PLAN `, `EXPLAIN `)+query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			cells := make([]any, len(cols))
			texts := make([]string, len(cols))
			for i := range cells {
				cells[i] = &texts[i]
			}
			if err := rows.Scan(cells...); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, strings.Join(texts, " "))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		hashed := strings.Contains(text, "HashAggregate")
		sorted := strings.Contains(text, "TEMP B-TREE FOR GROUP BY")
		if hashed == sorted || hashed != db.GroupsByHashing() {
			t.Errorf("GroupsByHashing() = %v, but the plan is:\n%s", db.GroupsByHashing(), text)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if tx.GroupsByHashing() != db.GroupsByHashing() {
				t.Errorf("Tx.GroupsByHashing() = %v, DB's %v", tx.GroupsByHashing(), db.GroupsByHashing())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestIDsInCommitOrder: a transaction that takes an id and stays open, and
// a second one that takes the next id meanwhile. Where ids are in commit
// order the second cannot commit before the first; elsewhere it does, and
// a reader then sees the higher id committed and the lower one not.
func TestIDsInCommitOrder(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE order_test (id `+store.Pick(db, "INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY")+`, name TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		insert := func(tx *store.Tx, name string) int64 {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO order_test (name) VALUES ($1) RETURNING id`, name).Scan(&id); err != nil {
				t.Error(err)
			}
			return id
		}
		inserted, release := make(chan int64, 1), make(chan struct{})
		firstDone := make(chan error, 1)
		go func() {
			firstDone <- db.InTx(ctx, func(tx *store.Tx) error {
				inserted <- insert(tx, "first")
				<-release
				return nil
			})
		}()
		firstID := <-inserted
		secondDone := make(chan int64, 1)
		go func() {
			var id int64
			err := db.InTx(ctx, func(tx *store.Tx) error { id = insert(tx, "second"); return nil })
			if err != nil {
				t.Error(err)
			}
			secondDone <- id
		}()
		// Where writers run concurrently the second commits at once; give a
		// single writer time to show that it does not.
		wait := 300 * time.Millisecond
		if db.ConcurrentWriters() {
			wait = 20 * time.Second
		}
		var secondID int64
		secondFirst := false
		select {
		case secondID = <-secondDone:
			secondFirst = true
		case <-time.After(wait):
		}
		var committed []int64
		if secondFirst {
			rows, err := db.Read().QueryContext(ctx, `SELECT id FROM order_test ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				committed = append(committed, id)
			}
			rows.Close()
		}
		close(release)
		if err := <-firstDone; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		if !secondFirst {
			secondID = <-secondDone
		}
		if secondID <= firstID {
			t.Fatalf("ids %d then %d", firstID, secondID)
		}
		outOfOrder := secondFirst && len(committed) == 1 && committed[0] == secondID
		if db.IDsInCommitOrder() == outOfOrder {
			t.Errorf("IDsInCommitOrder() = %v, but id %d was committed while id %d was not: %v (committed %v)",
				db.IDsInCommitOrder(), secondID, firstID, outOfOrder, committed)
		}
	})
}
