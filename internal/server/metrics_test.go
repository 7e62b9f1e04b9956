package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/jobs"
	"github.com/stocktrail/stocktrail/internal/metrics"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestMetrics: /metrics answers only to the metrics token, in the
// Prometheus text format, with requests labelled by route pattern (never by
// raw path), the writer and pool, job runs and the ledger's backlog.
func TestMetrics(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		m := metrics.New(db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Metrics: m, MetricsToken: "s3cret-metrics"}))
		t.Cleanup(srv.Close)
		get := func(path, token string) (int, string) {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		get("/api/v1/items/12345", "")
		get("/api/v1/items/67890", "")
		get("/no/such/page", "")
		ticks := make(chan time.Time, 1)
		runner := &jobs.Runner{DB: db, Jobs: []jobs.Job{{Name: "probe", Run: func(context.Context) error { return errors.New("boom") }}},
			Observe: m.ObserveJob, Ticks: ticks, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); runner.Run(ctx) }()
		ticks <- time.Now()
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, body := get("/metrics", "s3cret-metrics")
			if strings.Contains(body, `stocktrail_job_runs_total{job="probe",outcome="error"} 1`) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		stop()
		<-done

		for _, token := range []string{"", "wrong"} {
			if status, body := get("/metrics", token); status != http.StatusUnauthorized || strings.Contains(body, "stocktrail_") {
				t.Errorf("metrics with token %q: %d", token, status)
			}
		}
		status, body := get("/metrics", "s3cret-metrics")
		if status != 200 {
			t.Fatalf("metrics: %d %s", status, body)
		}
		for _, want := range []string{
			`stocktrail_http_requests_total{method="GET",route="GET /api/v1/items/{id}",status="401"} 2`,
			`stocktrail_http_requests_total{method="GET",route="unmatched",status="401"}`,
			`stocktrail_http_request_duration_seconds_bucket{method="GET",route="GET /api/v1/items/{id}"`,
			`stocktrail_job_runs_total{job="probe",outcome="error"} 1`,
			"stocktrail_sqlite_writer_groups_total", "stocktrail_db_pool_open_connections",
			"stocktrail_ledger_pending_entries", "stocktrail_ledger_seal_lag_seconds", "stocktrail_idempotent_replays_total",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(body, "12345") || strings.Contains(body, "/no/such/page") {
			t.Error("a raw path became a label")
		}
		if strings.Contains(body, `stocktrail_ledger_pending_entries -1`) {
			t.Error("the ledger backlog could not be read")
		}
	})
}
