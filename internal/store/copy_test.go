package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestBulkCopy loads more rows than one SQLite statement takes, beside a
// plain statement in the same transaction; a load that fails, in Copy's
// row source or after it, leaves nothing behind.
func TestBulkCopy(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE copy_test (id BIGINT PRIMARY KEY, name TEXT NOT NULL, small INTEGER NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		count := func() (n, sum int64) {
			if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(id + small), 0) FROM copy_test`).Scan(&n, &sum); err != nil {
				t.Fatal(err)
			}
			return n, sum
		}
		const rows = 4321
		fill := func(first int64) func(row []any) error {
			id := first
			return func(row []any) error {
				row[0], row[1], row[2] = id, fmt.Sprintf("row %d", id), int32(id%7)
				id++
				return nil
			}
		}
		err := db.BulkLoad(ctx, func(b *store.Bulk) error {
			if err := b.Copy(ctx, "copy_test", []string{"id", "name", "small"}, rows, fill(1)); err != nil {
				return err
			}
			if _, err := b.ExecContext(ctx, `INSERT INTO copy_test (id, name, small) VALUES ($1, $2, $3)`, 0, "zero", 0); err != nil {
				return err
			}
			var n int
			if err := b.QueryRowContext(ctx, `SELECT COUNT(*) FROM copy_test`).Scan(&n); err != nil || n != rows+1 {
				return fmt.Errorf("the load's own transaction sees %d rows (%v), want %d", n, err, rows+1)
			}
			return b.Copy(ctx, "copy_test", []string{"id", "name", "small"}, 0, fill(-1))
		})
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for id := int64(1); id <= rows; id++ {
			want += id + id%7
		}
		if n, sum := count(); n != rows+1 || sum != want {
			t.Fatalf("%d rows summing to %d, want %d and %d", n, sum, rows+1, want)
		}
		var name string
		if err := db.Read().QueryRowContext(ctx, `SELECT name FROM copy_test WHERE id = 4000`).Scan(&name); err != nil || name != "row 4000" {
			t.Fatalf("row 4000: %q, %v", name, err)
		}

		refused := errors.New("refused")
		for what, load := range map[string]func(b *store.Bulk) error{
			"row source": func(b *store.Bulk) error {
				next := fill(10_000)
				i := 0
				return b.Copy(ctx, "copy_test", []string{"id", "name", "small"}, 3000, func(row []any) error {
					if i++; i == 2500 {
						return refused
					}
					return next(row)
				})
			},
			"after the copy": func(b *store.Bulk) error {
				if err := b.Copy(ctx, "copy_test", []string{"id", "name", "small"}, 100, fill(20_000)); err != nil {
					return err
				}
				return refused
			},
		} {
			if err := db.BulkLoad(ctx, load); !errors.Is(err, refused) {
				t.Errorf("%s: %v, want the refusal", what, err)
			}
			if n, _ := count(); n != rows+1 {
				t.Errorf("%s: %d rows after a failed load, want %d", what, n, rows+1)
			}
		}
		// A duplicate key fails the load with the database's error.
		err = db.BulkLoad(ctx, func(b *store.Bulk) error {
			return b.Copy(ctx, "copy_test", []string{"id", "name", "small"}, 1, fill(5))
		})
		if !store.IsUniqueViolation(err) {
			t.Errorf("copying a duplicate key: %v", err)
		}
		if n, _ := count(); n != rows+1 {
			t.Errorf("%d rows after a duplicate, want %d", n, rows+1)
		}
	})
}
