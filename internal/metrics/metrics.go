// Package metrics exposes what operators watch, in the Prometheus text
// format: requests by route and status with their latency, the SQLite
// writer's groups, busy time and fsyncs, the PostgreSQL pool, idempotent
// replays, background job runs and the ledger's sealing lag. It keeps its
// own registry (no global state) and is served by the server behind a
// token or on a separate listen address (README, "Metrics").
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Metrics holds the install's collectors.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	replays  prometheus.Counter
	jobs     *prometheus.CounterVec
	jobTime  *prometheus.HistogramVec
}

// New registers the collectors of db's install.
func New(db *store.DB) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stocktrail_http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status."}, []string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "stocktrail_http_request_duration_seconds",
		Help: "Time to answer HTTP requests, by route pattern and method.", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)},
		[]string{"route", "method"})
	m.replays = prometheus.NewCounter(prometheus.CounterOpts{Name: "stocktrail_idempotent_replays_total",
		Help: "API answers replayed for a retried Idempotency-Key instead of running the request again."})
	m.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stocktrail_job_runs_total",
		Help: "Background job runs on the elected node, by job and outcome (ok or error)."}, []string{"job", "outcome"})
	m.jobTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "stocktrail_job_duration_seconds",
		Help: "Time a background job run took.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"job"})
	m.registry.MustRegister(m.requests, m.latency, m.replays, m.jobs, m.jobTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	writer := func(name, help string, value func(store.WriterStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return value(db.WriterStats()) })
	}
	m.registry.MustRegister(
		writer("stocktrail_sqlite_writer_groups_total", "Physical transactions the SQLite writer committed (0 on PostgreSQL).",
			func(s store.WriterStats) float64 { return float64(s.Groups) }),
		writer("stocktrail_sqlite_writer_transactions_total", "Logical transactions committed in them; divided by groups, the mean group size.",
			func(s store.WriterStats) float64 { return float64(s.Transactions) }),
		writer("stocktrail_sqlite_writer_busy_seconds_total", "Time the SQLite writer spent running and committing groups.",
			func(s store.WriterStats) float64 { return s.Busy.Seconds() }),
		writer("stocktrail_sqlite_fsyncs_total", "fsyncs of the SQLite write-ahead log that made groups durable.",
			func(s store.WriterStats) float64 { return float64(s.Syncs) }),
		writer("stocktrail_sqlite_fsync_seconds_total", "Time spent in them; divided by fsyncs, the mean fsync latency.",
			func(s store.WriterStats) float64 { return s.SyncBusy.Seconds() }),
	)
	pool := func(name, help string, value func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, value)
	}
	m.registry.MustRegister(
		pool("stocktrail_db_pool_open_connections", "Connections open in the pool that serves writes (all queries on PostgreSQL).",
			func() float64 { return float64(db.PoolStats().Open) }),
		pool("stocktrail_db_pool_in_use_connections", "Connections of that pool in use.",
			func() float64 { return float64(db.PoolStats().InUse) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "stocktrail_db_pool_waits_total",
			Help: "Times a query waited for a free connection."}, func() float64 { return float64(db.PoolStats().Waits) }),
	)
	m.registry.MustRegister(&backlogCollector{db: db})
	return m
}

// backlogCollector reports the ledger's sealing backlog with one read per
// scrape for both of its figures.
type backlogCollector struct{ db *store.DB }

var (
	pendingDesc = prometheus.NewDesc("stocktrail_ledger_pending_entries",
		"Entries committed and not sealed yet, in every workspace (-1 when it cannot be read).", nil, nil)
	lagDesc = prometheus.NewDesc("stocktrail_ledger_seal_lag_seconds",
		"How long the oldest entry not sealed yet has waited (0 when all are sealed).", nil, nil)
)

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- pendingDesc; ch <- lagDesc }

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(actor.With(context.Background(), actor.SystemActor(0, "metrics")), 2*time.Second)
	defer cancel()
	b, err := ledger.InstallBacklog(ctx, c.db)
	if err != nil {
		b = ledger.Backlog{Pending: -1}
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(b.Pending))
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, b.Lag(time.Now()).Seconds())
}

// ObserveRequest counts an answered request. route is the pattern that
// served it ("GET /api/v1/items/{id}"), or "unmatched", so ids and typos
// never become labels.
func (m *Metrics) ObserveRequest(route, method string, status int, took time.Duration, replayed bool) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(took.Seconds())
	if replayed {
		m.replays.Inc()
	}
}

// ObserveJob counts a background job run.
func (m *Metrics) ObserveJob(job string, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.jobs.WithLabelValues(job, outcome).Inc()
	m.jobTime.WithLabelValues(job).Observe(took.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
