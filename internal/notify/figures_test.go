package notify_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestDeliveryFigures measures how long fanning out and delivering a
// burst of events takes (STOCKTRAIL_WEBHOOK_FIGURES=N events; skipped
// otherwise, as it is a measurement, not a check).
func TestDeliveryFigures(t *testing.T) {
	n := 0
	fmt.Sscan(os.Getenv("STOCKTRAIL_WEBHOOK_FIGURES"), &n)
	if n <= 0 {
		t.Skip("set STOCKTRAIL_WEBHOOK_FIGURES=N to measure N deliveries")
	}
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, notify.Options{})
		rc := newReceiver(t)
		srv := httptest.NewServer(rc)
		defer srv.Close()
		e := w.endpoint(t, srv.URL, rc, notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: "products"})
		w.pump(t) // the endpoint's own creation is not subscribed to
		for i := 0; i < n; i++ {
			w.event(t, activity.Update, activity.Products, "items")
		}
		started := time.Now()
		// As serve does: seal and fan out until nothing is left.
		for sealed, handed := 1, 1; sealed+handed > 0; {
			sealed = ledgertest.SealAll(t, w.sealer)
			var err error
			if handed, err = w.wh.Fanout(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		fanned := time.Since(started)
		deadline := time.Now().Add(time.Duration(n)*100*time.Millisecond + 30*time.Second)
		for {
			got, err := w.wh.GetEndpoint(w.f.Ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Pending == 0 && len(rc.accepted()) == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("received %d of %d, %d waiting", len(rc.accepted()), n, got.Pending)
			}
			time.Sleep(20 * time.Millisecond)
		}
		total := time.Since(started)
		t.Logf("%d events: sealed and fanned out in %s, all delivered %s after the seal began (%.0f deliveries/s)",
			n, fanned.Round(time.Millisecond), total.Round(time.Millisecond), float64(n)/total.Seconds())
	})
}
