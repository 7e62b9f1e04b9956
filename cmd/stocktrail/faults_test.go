package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

// The fault suite (issue 14): the database taken away from a running server
// (faults_pg_test.go) and the disk filling under it (faults_disk_test.go).
// Both need what a developer machine may lack (PostgreSQL's programs, root to
// mount a small file system) and skip without it, unless
// STOCKTRAIL_REQUIRE_FAULTS=1 (scripts/test.sh sets it) makes them fail.
const requireFaultsEnv = "STOCKTRAIL_REQUIRE_FAULTS"

// faultsOutageEnv sets how long the fault lasts (a Go duration; default
// 3s), for the long form.
const faultsOutageEnv = "STOCKTRAIL_FAULTS_OUTAGE"

// faultsRoundsEnv sets how many times the fault comes and goes (default 1).
const faultsRoundsEnv = "STOCKTRAIL_FAULTS_ROUNDS"

// missingPrerequisite skips the test, or fails it when the suite is required.
func missingPrerequisite(t *testing.T, why string) {
	t.Helper()
	if os.Getenv(requireFaultsEnv) == "1" {
		t.Fatalf("%s, and %s=1 requires the fault suite", why, requireFaultsEnv)
	}
	t.Skipf("%s (set %s=1 to fail instead)", why, requireFaultsEnv)
}

// faultsOutage reads how long each fault lasts and how many there are.
func faultsOutage(t *testing.T) (time.Duration, int) {
	outage, rounds := 3*time.Second, 1
	if v := os.Getenv(faultsOutageEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a duration such as 5s", faultsOutageEnv, v)
		}
		outage = d
	}
	if v := os.Getenv(faultsRoundsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive count", faultsRoundsEnv, v)
		}
		rounds = n
	}
	return outage, rounds
}

// faultServer is a real `stocktrail serve` process (the test binary, see
// TestMain) whose log is kept for the failure message.
type faultServer struct {
	t       *testing.T
	where   []string
	addr    string
	token   string // metrics bearer token
	logPath string
	cmd     *exec.Cmd
}

func newFaultServer(t *testing.T, where []string) *faultServer {
	return &faultServer{t: t, where: where, addr: freeAddr(t), token: "fault-suite-metrics",
		logPath: t.TempDir() + "/server.log"}
}

func (s *faultServer) start() {
	s.t.Helper()
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer log.Close()
	cmd := s.command()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	s.t.Cleanup(func() {
		if s.cmd != nil {
			s.kill()
		}
	})
	if err := waitReady(s.addr, 30*time.Second); err != nil {
		s.kill()
		s.t.Fatalf("server not ready: %v%s", err, s.logTail())
	}
}

// command is the server's process, not started.
func (s *faultServer) command() *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", s.addr, "--metrics-token", s.token}, s.where...)...)
	cmd.Env = append(os.Environ(), crashServerEnv+"=1", "STOCKTRAIL_ADMIN_PASSWORD=fault suite password")
	return cmd
}

// stop ends the server as an operator would (SIGTERM: in-flight requests
// finish).
func (s *faultServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		s.cmd.Process.Kill()
		<-done
		s.t.Errorf("the server did not stop within 40 s of SIGTERM%s", s.logTail())
	}
	s.cmd = nil
}

func (s *faultServer) kill() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// logTail is the end of the server's log, for a failure message.
func (s *faultServer) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return "\n--- server log ---\n" + string(b)
}

// logHas reports whether the server log holds s.
func (s *faultServer) logHas(text string) bool {
	b, _ := os.ReadFile(s.logPath)
	return bytes.Contains(b, []byte(text))
}

// jobRuns reads stocktrail_job_runs_total{job, outcome="ok"} from /metrics.
func (s *faultServer) jobRuns(job string) (float64, error) {
	req, _ := http.NewRequest("GET", "http://"+s.addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("/metrics answered %d", resp.StatusCode)
	}
	prefix := `stocktrail_job_runs_total{job="` + job + `",outcome="ok"} `
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, nil
}

// setupFaultWorkspace makes the API keys, the item and the location the
// clients use, and returns the manager's key.
func setupFaultWorkspace(t *testing.T, s *faultServer) string {
	t.Helper()
	out, err := runCLI(t, append([]string{"apikey", "create", "--role", "manager", "--name", "fault suite"}, s.where...)...)
	secret := regexp.MustCompile(`(?m)^\S+_\S+$`).FindString(out)
	if err != nil || secret == "" {
		t.Fatalf("no key: %v %q", err, out)
	}
	c := faultClient{base: "http://" + s.addr, secret: secret}
	for _, r := range []struct{ path, body string }{
		{"/api/v1/items", `{"sku":"FAULT-1","name":"Fault test bolt"}`},
		{"/api/v1/locations", `{"kind":"warehouse","code":"WH1"}`},
	} {
		if a := c.send("POST", r.path, r.body, ""); a.err != nil || a.status != 201 {
			t.Fatalf("setup %s: %d %v %s", r.path, a.status, a.err, a.body)
		}
	}
	return secret
}

const faultReceipt = `{"sku":"FAULT-1","location":"WH1","quantity":"1"}`

// faultClient sends API requests and checks each answer's form.
type faultClient struct {
	base, secret string
}

// answer is one request's outcome.
type answer struct {
	status     int
	body       []byte
	header     http.Header
	err        error
	took       time.Duration
	sentAt     time.Time
	method     string
	path       string
	idempotent string
}

func (c faultClient) send(method, path, body, key string) answer {
	a := answer{method: method, path: path, idempotent: key, sentAt: time.Now()}
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.secret)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err == nil {
		a.status, a.header = resp.StatusCode, resp.Header
		a.body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	a.err, a.took = err, time.Since(a.sentAt)
	return a
}

// rawDetail matches what only a raw driver or system error would say.
var rawDetail = regexp.MustCompile(`(?i)sqlite|SQLSTATE|pgconn|pgx|dial tcp|connection refused|database or disk|\(\d+\)|errno|\.go:`)

// unavailableProblem reports what is wrong with an answer that must be a
// complete problem+json document saying the service is unavailable, or "".
func (a answer) unavailableProblem() string {
	if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Sprintf("Content-Type %q", ct)
	}
	var p struct {
		Type      string            `json:"type"`
		Title     string            `json:"title"`
		Status    int               `json:"status"`
		Detail    string            `json:"detail"`
		Instance  string            `json:"instance"`
		RequestID string            `json:"request_id"`
		Errors    map[string]string `json:"errors"`
	}
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return "body is not one problem document: " + err.Error()
	}
	if p.Status != a.status || p.Detail == "" {
		return fmt.Sprintf("problem status %d detail %q", p.Status, p.Detail)
	}
	if rawDetail.MatchString(p.Detail) {
		return fmt.Sprintf("raw error shown: %q", p.Detail)
	}
	if n, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || n <= 0 {
		return fmt.Sprintf("Retry-After %q", a.header.Get("Retry-After"))
	}
	return ""
}

// faultLoad is the clients' shared tally.
type faultLoad struct {
	client  faultClient
	bound   time.Duration // longest an answer may take
	writers int

	mu          sync.Mutex
	acked       map[string]bool
	bad         []string // answers that broke the rules
	unavailable []time.Time
	slowest     time.Duration

	requests, reads, conflicts atomic.Int64
	stop                       atomic.Bool
	wg                         sync.WaitGroup
	ctx                        context.Context
	cancel                     context.CancelFunc
}

func newFaultLoad(c faultClient, writers int, bound time.Duration) *faultLoad {
	l := &faultLoad{client: c, writers: writers, bound: bound, acked: map[string]bool{}}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return l
}

// judge checks one answer; it reports whether a write was acknowledged.
func (l *faultLoad) judge(a answer) bool {
	l.requests.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if a.took > l.slowest {
		l.slowest = a.took
	}
	where := fmt.Sprintf("%s %s (key %q, sent %s)", a.method, a.path, a.idempotent, a.sentAt.Format("15:04:05.000"))
	if a.took > l.bound {
		l.bad = append(l.bad, fmt.Sprintf("%s took %v (bound %v)", where, a.took.Round(time.Millisecond), l.bound))
	}
	switch {
	case a.err != nil:
		l.bad = append(l.bad, fmt.Sprintf("%s: %v", where, a.err))
	case a.status == 200 || a.status == 201:
		// A complete JSON document, not a page cut short.
		var v any
		if err := json.Unmarshal(a.body, &v); err != nil {
			l.bad = append(l.bad, fmt.Sprintf("%s: %d with a body that is not JSON: %v", where, a.status, err))
			return false
		}
		return a.method == "POST"
	case a.status == 503:
		if why := a.unavailableProblem(); why != "" {
			l.bad = append(l.bad, fmt.Sprintf("%s: 503 but %s", where, why))
		}
		l.unavailable = append(l.unavailable, a.sentAt)
	case a.status == 409 && a.method == "POST":
		l.conflicts.Add(1) // a retry while the first attempt still runs
	default:
		l.bad = append(l.bad, fmt.Sprintf("%s: %d %s", where, a.status, truncateBody(a.body)))
	}
	return false
}

func truncateBody(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}

// run starts the writers (receipts, each retried with its key until
// acknowledged) and one reader (stock levels and the change log).
func (l *faultLoad) run(prefix string) {
	for c := 0; c < l.writers; c++ {
		l.wg.Go(func() {
			for n := 0; !l.stop.Load(); n++ {
				key := fmt.Sprintf("%s-%d-%d", prefix, c, n)
				for l.ctx.Err() == nil {
					if l.judge(l.client.send("POST", "/api/v1/inventory/receipts", faultReceipt, key)) {
						l.mu.Lock()
						l.acked[key] = true
						l.mu.Unlock()
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	l.wg.Go(func() {
		for n := 0; !l.stop.Load(); n++ {
			path := "/api/v1/inventory/stock"
			if n%2 == 1 {
				path = "/api/v1/inventory/log"
			}
			l.reads.Add(1)
			l.judge(l.client.send("GET", path, "", ""))
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// finish stops the clients once each has its last receipt acknowledged.
func (l *faultLoad) finish(t *testing.T, within time.Duration) {
	t.Helper()
	l.stop.Store(true)
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		l.cancel()
		<-done
		t.Errorf("the clients' last receipts were not acknowledged within %v", within)
	}
}

func (l *faultLoad) unavailableBetween(from, to time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, at := range l.unavailable {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

func (l *faultLoad) badCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.bad)
}

// readyz returns /readyz's status (0 when it did not answer).
func readyz(addr string) int {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// writeResumes sends a receipt with a key of its own until it is
// acknowledged, and returns how long that took.
func writeResumes(c faultClient, key string, within time.Duration) (time.Duration, error) {
	began := time.Now()
	for time.Since(began) < within {
		a := c.send("POST", "/api/v1/inventory/receipts", faultReceipt, key)
		if a.err == nil && a.status == 201 {
			return time.Since(began), nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0, fmt.Errorf("no write acknowledged within %v", within)
}

// waitJobsRun waits until the sealer and the alert rules have each run
// successfully again after now.
func waitJobsRun(t *testing.T, s *faultServer, within time.Duration) {
	t.Helper()
	jobs := []string{"ledger-seal", "alert-rules"}
	before := map[string]float64{}
	for _, j := range jobs {
		n, err := s.jobRuns(j)
		if err != nil {
			t.Fatalf("metrics: %v", err)
		}
		before[j] = n
	}
	deadline := time.Now().Add(within)
	for _, j := range jobs {
		for {
			n, err := s.jobRuns(j)
			if err == nil && n > before[j] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s has not run successfully again within %v (ok runs: %v)%s", j, within, n, s.logTail())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// checkNothingLost checks the database after the server stopped: every
// acknowledged receipt is in the change log exactly once, the levels equal
// the sum of their changes, the probe receipt written after the fault was
// sealed, and the ledger verifies.
func checkNothingLost(t *testing.T, where []string, l *faultLoad, prefix, probe string) (lost, doubled int) {
	t.Helper()
	db, err := openDB(t, where)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	logged := map[string]int{}
	rows, err := db.Read().QueryContext(ctx, `SELECT idempotency_key, COUNT(*) FROM inventory_log
		WHERE idempotency_key LIKE $1 AND movement = 'receipt' GROUP BY idempotency_key`, prefix+"-%")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		logged[k] = n
	}
	rows.Close()
	var lostKeys, doubledKeys []string
	for k := range l.acked {
		if logged[k] == 0 {
			lostKeys = append(lostKeys, k)
		}
	}
	for k, n := range logged {
		if n > 1 {
			doubledKeys = append(doubledKeys, k)
		}
	}
	if len(lostKeys) > 0 || len(doubledKeys) > 0 {
		t.Errorf("acknowledged but lost: %v; applied twice: %v", lostKeys, doubledKeys)
	}
	var sealed int
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_leaves v JOIN inventory_log e
		ON v.workspace_id = e.workspace_id AND v.log = 'inventory_log' AND v.entry_id = e.id
		WHERE e.idempotency_key = $1 AND e.movement = 'receipt'`, probe).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if sealed != 1 {
		t.Errorf("the receipt written after the fault was sealed %d times, want once: the sealer did not recover", sealed)
	}
	if err := inventory.CheckInvariant(actor.With(ctx, actor.SystemActor(1, "fault suite")), db); err != nil {
		t.Errorf("levels after the fault: %v", err)
	}
	if out, err := runCLI(t, append([]string{"verify"}, where...)...); err != nil {
		t.Errorf("verify after the fault: %v\n%s", err, out)
	}
	return len(lostKeys), len(doubledKeys)
}

// badAnswers fails the test with the answers that broke the rules, and
// the server's log lines about them.
func (l *faultLoad) badAnswers(t *testing.T, s *faultServer) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.bad) == 0 {
		return
	}
	shown := l.bad
	if len(shown) > 20 {
		shown = shown[:20]
	}
	var logged []string
	log, _ := os.ReadFile(s.logPath)
	for _, id := range regexp.MustCompile(`"request_id":"(\w+)"`).FindAllStringSubmatch(strings.Join(shown, "\n"), -1) {
		for _, line := range strings.Split(string(log), "\n") {
			if strings.Contains(line, id[1]) {
				logged = append(logged, line)
			}
		}
	}
	t.Errorf("%d answers broke the rules, first ones:\n%s\nthe server logged:\n%s", len(l.bad), strings.Join(shown, "\n"), strings.Join(logged, "\n"))
}
