package ledger_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/benchdata"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// benchEntries is the history each sealing iteration loads, and the tree
// the proof benchmark proves into. Larger trees: stocktrail bench.
const benchEntries = 20_000

// loadedSealer is a workspace on engine with a sealer; load adds
// benchEntries pending change-log entries to it.
func loadedSealer(b *testing.B, engine store.Engine) (f *storetest.Fixture, s *ledger.Sealer, load func()) {
	b.Helper()
	db := storetest.Open(b, engine)
	f = storetest.NewFixture(b, db)
	key, err := ledger.LoadOrCreateKeyFile(filepath.Join(b.TempDir(), "ledger.key"), "bench-key")
	if err != nil {
		b.Fatal(err)
	}
	s = &ledger.Sealer{DB: db, Key: key}
	if err := s.Register(context.Background()); err != nil {
		b.Fatal(err)
	}
	sys := actor.With(context.Background(), actor.SystemActor(f.Workspace.ID, "loader"))
	seed := uint64(0)
	load = func() {
		seed++
		if err := benchdata.LoadSynthetic(sys, db, benchdata.Synthetic{Items: 20, Locations: 10, Entries: benchEntries,
			Span: 30 * 24 * time.Hour, Seed: seed}); err != nil {
			b.Fatal(err)
		}
	}
	return f, s, load
}

// BenchmarkSeal seals benchEntries freshly loaded entries per iteration
// (loading is not timed) and reports the rate.
func BenchmarkSeal(b *testing.B) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			_, s, load := loadedSealer(b, engine)
			sealed := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				load()
				b.StartTimer()
				n, err := s.Seal(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				sealed += n
			}
			b.ReportMetric(float64(sealed)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkProveEntry proves random change-log entries of a sealed tree of
// benchEntries leaves.
func BenchmarkProveEntry(b *testing.B) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			f, s, load := loadedSealer(b, engine)
			load()
			if _, err := s.Seal(context.Background()); err != nil {
				b.Fatal(err)
			}
			var lo, hi int64
			if err := f.DB.Read().QueryRowContext(context.Background(), `SELECT MIN(id), MAX(id) FROM inventory_log WHERE workspace_id = $1`,
				f.Workspace.ID).Scan(&lo, &hi); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := ledger.ProveEntry(f.Ctx, f.DB, ledger.InventoryLog, lo+rng.Int64N(hi-lo+1)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
