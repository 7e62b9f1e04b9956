package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// BenchmarkReceiptsHTTP posts single receipts to the real server from 16
// concurrent clients (b.SetParallelism) on 100 items × 10 locations and
// reports movements per second.
func BenchmarkReceiptsHTTP(b *testing.B) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			f := storetest.NewFixture(b, db)
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Logger: quiet}))
			defer srv.Close()
			key, err := f.Auth.CreateAPIKey(f.Ctx, "bench", actor.Manager)
			if err != nil {
				b.Fatal(err)
			}
			var items, locs []int64
			for i := 0; i < 100; i++ {
				it, err := inventory.CreateItem(f.Ctx, db, inventory.ItemInput{SKU: fmt.Sprintf("I%d", i), Name: "i"})
				if err != nil {
					b.Fatal(err)
				}
				items = append(items, it.ID)
			}
			for i := 0; i < 10; i++ {
				l, err := inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Code: fmt.Sprintf("L%d", i)})
				if err != nil {
					b.Fatal(err)
				}
				locs = append(locs, l.ID)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var failed atomic.Int64
			b.SetParallelism(8) // × GOMAXPROCS(2) = 16 clients on the reference machine
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(rand.Uint64(), 3))
				for pb.Next() {
					body := fmt.Sprintf(`{"item_id":%d,"location_id":%d,"quantity":"1"}`, items[rng.IntN(len(items))], locs[rng.IntN(len(locs))])
					req, _ := http.NewRequest("POST", srv.URL+"/api/v1/inventory/receipts", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+key.Secret)
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			if failed.Load() > 0 {
				b.Errorf("%d requests failed", failed.Load())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "movements/s")
		})
	}
}
