package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
)

// crashServerEnv makes the test binary a stocktrail server (TestMain).
const crashServerEnv = "STOCKTRAIL_CRASH_SERVER"

// TestCrashesLoseNothing is the crash suite (issue 14): clients send
// receipts, audit-log entries and asset scans into an inventory session with
// idempotency keys, retrying each until it is acknowledged, while the server
// is SIGKILLed at random moments and started again. After the trials every
// acknowledged receipt is in the change log exactly once, every acknowledged
// scan is recorded once for the asset it named, no key is applied twice, the
// levels equal the sum of their changes, the session's progress equals the
// assets scanned, and the ledger verifies. Short form here (STOCKTRAIL_CRASH_TRIALS, default 3
// per engine); the long form is STOCKTRAIL_CRASH_TRIALS=100.
func TestCrashesLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills servers")
	}
	trials := 3
	if v, err := strconv.Atoi(os.Getenv("STOCKTRAIL_CRASH_TRIALS")); err == nil && v > 0 {
		trials = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			where := []string{"--data", t.TempDir()}
			if engine == "postgres" {
				url := pgtest.NewDatabase(t)
				where = []string{"--db", url}
				if _, err := runCLI(t, append([]string{"migrate"}, where...)...); err != nil {
					t.Fatal(err)
				}
			}
			crashTrials(t, where, trials)
		})
	}
}

type crashServer struct {
	t     *testing.T
	where []string
	addr  string
	cmd   *exec.Cmd
}

func (s *crashServer) start() {
	s.t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", s.addr}, s.where...)...)
	cmd.Env = append(os.Environ(), crashServerEnv+"=1", "STOCKTRAIL_ADMIN_PASSWORD=crash suite password")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	if err := waitReady(s.addr, 30*time.Second); err != nil {
		s.kill()
		s.t.Fatalf("server not ready after a restart: %v", err)
	}
}

func (s *crashServer) kill() {
	s.cmd.Process.Kill() // SIGKILL: no shutdown, no flush
	s.cmd.Wait()
}

func crashTrials(t *testing.T, where []string, trials int) {
	srv := &crashServer{t: t, where: where, addr: freeAddr(t)}
	srv.start()
	out, err := runCLI(t, append([]string{"apikey", "create", "--role", "manager", "--name", "crash suite"}, where...)...)
	if err != nil {
		srv.kill()
		t.Fatal(err)
	}
	secret := regexp.MustCompile(`(?m)^\S+_\S+$`).FindString(out)
	// Manual audit-log entries are an admin's.
	out, err = runCLI(t, append([]string{"apikey", "create", "--role", "admin", "--name", "crash suite auditor"}, where...)...)
	adminSecret := regexp.MustCompile(`(?m)^\S+_\S+$`).FindString(out)
	if err != nil || secret == "" || adminSecret == "" {
		srv.kill()
		t.Fatalf("no keys: %v %q", err, out)
	}
	base := "http://" + srv.addr
	postAs := func(secret, path, body, key string) (int, error) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	post := func(path, body, key string) (int, error) { return postAs(secret, path, body, key) }
	for _, c := range []struct{ path, body string }{
		{"/api/v1/items", `{"sku":"CRASH-1","name":"Crash test bolt"}`},
		{"/api/v1/locations", `{"kind":"warehouse","code":"WH1"}`},
	} {
		if status, err := post(c.path, c.body, ""); err != nil || status != 201 {
			srv.kill()
			t.Fatalf("setup %s: %d %v", c.path, status, err)
		}
	}
	assetCount := crashAssets(trials)
	sessionID, err := startScanSession(base, secret, assetCount)
	if err != nil {
		srv.kill()
		t.Fatal(err)
	}

	// Clients: each receipt is retried with its key until acknowledged.
	var (
		mu        sync.Mutex
		acked     = map[string]bool{}
		scanned   = map[string]string{} // acknowledged scan key → the tag it scanned
		requests  atomic.Int64
		stop      atomic.Bool
		wg        sync.WaitGroup
		receipt   = `{"sku":"CRASH-1","location":"WH1","quantity":"1"}`
		ctx, done = context.WithCancel(context.Background())
	)
	defer done()
	for c := 0; c < 6; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				// Four clients receive stock; the fifth posts audit-log
				// entries (seed 002), each naming its key; the sixth scans
				// assets in the session (seed 003), each asset twice under
				// two keys (the second scan is a repeat that must not count).
				key, send, tag := fmt.Sprintf("crash-%d-%d", c, n), post, ""
				path, body := "/api/v1/inventory/receipts", receipt
				switch c {
				case 4:
					key = fmt.Sprintf("crash-audit-%d", n)
					path = "/api/v1/audit-logs"
					body = `{"action":"UPDATE","table_name":"orders","record_id":1,"description":"` + key + `"}`
					send = func(path, body, key string) (int, error) { return postAs(adminSecret, path, body, key) }
				case 5:
					key, tag = fmt.Sprintf("crash-scan-%d", n), crashAssetTag((n/2)%assetCount)
					path = fmt.Sprintf("/api/v1/inventory-sessions/%d/scans", sessionID)
					body = `{"code":"` + tag + `"}`
				}
				for ctx.Err() == nil {
					requests.Add(1)
					status, err := send(path, body, key)
					if err == nil && (status == 201 || status == 200) {
						mu.Lock()
						acked[key] = true
						if tag != "" {
							scanned[key] = tag
						}
						mu.Unlock()
						break
					}
					time.Sleep(20 * time.Millisecond) // down, restarting, or 409 in progress
				}
			}
		}()
	}
	for i := 0; i < trials; i++ {
		time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
		srv.kill()
		srv.start()
	}
	stop.Store(true)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		done()
		<-finished
		srv.kill()
		t.Fatal("clients did not get their last receipts acknowledged")
	}
	time.Sleep(1500 * time.Millisecond) // let the last node seal what it has
	srv.kill()

	db, err := openDB(t, where)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	logged := map[string]int{}
	rows, err := db.Read().QueryContext(context.Background(), `SELECT idempotency_key, COUNT(*) FROM inventory_log WHERE idempotency_key LIKE 'crash-%' AND movement = 'receipt' GROUP BY idempotency_key`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var n int
		rows.Scan(&k, &n)
		logged[k] = n
	}
	rows.Close()
	rows, err = db.Read().QueryContext(context.Background(), `SELECT description, COUNT(*) FROM activity_events WHERE description LIKE 'crash-audit-%' GROUP BY description`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var n int
		rows.Scan(&k, &n)
		logged[k] = n
	}
	rows.Close()
	// A scan is recorded under its key, once (the key is the scan row's
	// primary key within the session), for the asset the client scanned.
	scanRows, err := readScans(db, sessionID)
	if err != nil {
		t.Fatal(err)
	}
	for k, row := range scanRows {
		if want, ok := scanned[k]; ok && row.tag != want {
			t.Errorf("scan %s recorded for %s, but the client scanned %s", k, row.tag, want)
		}
		logged[k] = 1
	}
	// (The first receipt also logs the record's creation, with the same
	// key: only receipt entries count.)
	var lost, doubled []string
	for k := range acked {
		if logged[k] == 0 {
			lost = append(lost, k)
		}
	}
	for k, n := range logged {
		if n > 1 {
			doubled = append(doubled, k)
		}
	}
	audits := 0
	for k := range acked {
		if strings.HasPrefix(k, "crash-audit-") {
			audits++
		}
	}
	scans, err := checkScanSession(db, sessionID, scanRows)
	if err != nil {
		t.Error(err)
	}
	t.Logf("%d trials: %d requests, %d receipts, %d audit entries and %d scans (%d of %d assets) acknowledged, %d in the logs, %d lost, %d applied twice",
		trials, requests.Load(), len(acked)-audits-len(scanned), audits, len(scanned), scans, assetCount, len(logged), len(lost), len(doubled))
	if audits == 0 || len(scanned) == 0 || audits+len(scanned) == len(acked) {
		t.Fatalf("the clients did not get every kind through (%d audit entries and %d scans of %d acknowledged)", audits, len(scanned), len(acked))
	}
	if len(lost) > 0 || len(doubled) > 0 {
		t.Fatalf("lost %v, applied twice %v", lost, doubled)
	}
	ws := int64(1)
	if err := inventory.CheckInvariant(actor.With(context.Background(), actor.SystemActor(ws, "crash suite")), db); err != nil {
		t.Fatalf("levels after the crashes: %v", err)
	}
	if out, err := runCLI(t, append([]string{"verify"}, where...)...); err != nil {
		t.Fatalf("verify after the crashes: %v\n%s", err, out)
	}
}

// openDB opens the database the flags name, as the CLI does.
func openDB(t *testing.T, where []string) (*store.DB, error) {
	cfg := store.Config{}
	for i := 0; i+1 < len(where); i += 2 {
		switch where[i] {
		case "--data":
			cfg.DataDir = where[i+1]
		case "--db":
			cfg.URL = where[i+1]
		}
	}
	return store.Open(context.Background(), cfg)
}

// crashAssets is how many assets the scanning client's session lists for a
// number of trials: more than it scans (about 70 scans a trial here, two per
// asset), so that scans keep finding new assets across all the crashes.
func crashAssets(trials int) int { return 60 * trials }

func crashAssetTag(i int) string { return fmt.Sprintf("CRASH-A-%04d", i) }

// startScanSession creates the assets and starts an inventory session over
// all of them, returning its id.
func startScanSession(base, secret string, assets int) (int64, error) {
	create := func(path, body string) (int64, error) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var created struct {
			ID int64 `json:"id"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode/100 != 2 {
			return 0, fmt.Errorf("setup %s: %d %v", path, resp.StatusCode, err)
		}
		return created.ID, nil
	}
	for i := range assets {
		if _, err := create("/api/v1/assets", fmt.Sprintf(`{"tag":%q,"name":"Crash test laptop %d"}`, crashAssetTag(i), i)); err != nil {
			return 0, err
		}
	}
	id, err := create("/api/v1/inventory-sessions", `{"name":"Crash suite count"}`)
	if err != nil {
		return 0, err
	}
	_, err = create(fmt.Sprintf("/api/v1/inventory-sessions/%d/start", id), "")
	return id, err
}

type scanRow struct{ tag, outcome string }

// readScans returns the session's recorded scans by client scan id (the
// Idempotency-Key the client sent).
func readScans(db *store.DB, sessionID int64) (map[string]scanRow, error) {
	rows, err := db.Read().QueryContext(context.Background(), `SELECT s.client_scan_id, a.tag, s.outcome FROM inventory_scans s
		JOIN assets a ON a.workspace_id = s.workspace_id AND a.id = s.asset_id WHERE s.session_id = $1`, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]scanRow{}
	for rows.Next() {
		var k string
		var r scanRow
		if err := rows.Scan(&k, &r.tag, &r.outcome); err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, rows.Err()
}

// checkScanSession checks that each asset was found once however often it
// was scanned: one "found" scan and one logged event per scanned asset, the
// session's items marked scanned for exactly those assets, and its progress
// count equal to them. It returns how many assets were scanned.
func checkScanSession(db *store.DB, sessionID int64, scans map[string]scanRow) (int, error) {
	ctx := context.Background()
	found, distinct := map[string]int{}, map[string]bool{}
	for _, r := range scans {
		distinct[r.tag] = true
		if r.outcome == "found" {
			found[r.tag]++
		}
	}
	var problems []string
	for tag := range distinct {
		if found[tag] != 1 {
			problems = append(problems, fmt.Sprintf("%s found %d times", tag, found[tag]))
		}
	}
	var progress, items, events, eventAssets int
	if err := db.Read().QueryRowContext(ctx, `SELECT COALESCE(SUM(scanned), 0) FROM inventory_session_progress WHERE session_id = $1`, sessionID).Scan(&progress); err != nil {
		return 0, err
	}
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM inventory_session_items WHERE session_id = $1 AND scanned_at IS NOT NULL`, sessionID).Scan(&items); err != nil {
		return 0, err
	}
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT description) FROM activity_events
		WHERE entity_type = 'inventory_sessions' AND entity_id = $1 AND description LIKE 'asset CRASH-A-% found (scan)'`,
		fmt.Sprint(sessionID)).Scan(&events, &eventAssets); err != nil {
		return 0, err
	}
	if progress != len(distinct) || items != len(distinct) || events != len(distinct) || eventAssets != len(distinct) {
		problems = append(problems, fmt.Sprintf("%d assets scanned, but progress counts %d, %d items are marked scanned, %d found events name %d assets",
			len(distinct), progress, items, events, eventAssets))
	}
	if len(problems) > 0 {
		return len(distinct), fmt.Errorf("session %d: %s", sessionID, strings.Join(problems, "; "))
	}
	return len(distinct), nil
}
