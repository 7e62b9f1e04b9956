package main

import (
	"os"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/pgtest"
)

// TestDatabaseAway is the fault suite's "database away" (issue 14): a real
// server on a PostgreSQL server of the test's own, four clients sending
// keyed receipts (each retried until acknowledged) and one reading levels
// and the change log, while PostgreSQL is shut down at once (pg_ctl stop -m
// immediate) for a few seconds and started again. While it is away every
// answer is a complete 503 problem+json with Retry-After within a bound (no
// 500, no hang, no half page) and /readyz says not ready; once it is back
// the same server process writes again within a bound, its sealer and alert
// rules run again, and afterwards every acknowledged receipt is in the log
// exactly once, the levels equal their changes and the ledger verifies.
// STOCKTRAIL_FAULTS_OUTAGE (default 3s) and STOCKTRAIL_FAULTS_ROUNDS
// (default 1) make the long form.
func TestDatabaseAway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and stops its database")
	}
	outage, rounds := faultsOutage(t)
	pg, err := pgtest.NewServer(t)
	if err != nil {
		if os.Getenv(pgtest.EnvRequire) == "1" {
			t.Fatalf("no PostgreSQL server of its own, and %s=1: %v", pgtest.EnvRequire, err)
		}
		missingPrerequisite(t, "no PostgreSQL server of its own: "+err.Error())
	}
	where := []string{"--db", pg.NewDatabase(t)}
	if _, err := runCLI(t, append([]string{"migrate"}, where...)...); err != nil {
		t.Fatal(err)
	}
	srv := newFaultServer(t, where)
	srv.start()
	secret := setupFaultWorkspace(t, srv)
	client := faultClient{base: "http://" + srv.addr, secret: secret}
	// An answer while the database is away should come at once (connections
	// are refused); 5 s leaves room for a loaded machine.
	load := newFaultLoad(client, 4, 5*time.Second)
	load.run("away")
	time.Sleep(time.Second)

	var recoveries []time.Duration
	for round := 0; round < rounds; round++ {
		began := time.Now()
		if err := pg.Stop(); err != nil {
			t.Fatal(err)
		}
		// While away: /readyz says not ready, every time it is asked.
		var readyWhileAway []int
		for time.Since(began) < outage {
			if status := readyz(srv.addr); status != 503 {
				readyWhileAway = append(readyWhileAway, status)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(readyWhileAway) > 0 {
			t.Errorf("round %d: /readyz answered %v while the database was away, want 503 only", round, readyWhileAway)
		}
		if err := pg.Start(); err != nil {
			t.Fatal(err)
		}
		back := time.Now()
		if n := load.unavailableBetween(began, back); n == 0 {
			t.Errorf("round %d: no client heard 503 while the database was away for %v: the outage went unseen", round, outage)
		}
		// The same process writes again by itself, within a bound.
		took, err := writeResumes(client, "away-probe-"+time.Now().Format("150405.000"), 20*time.Second)
		if err != nil {
			t.Fatalf("round %d: after the database came back: %v%s", round, err, srv.logTail())
		}
		recoveries = append(recoveries, took)
		if status := readyz(srv.addr); status != 200 {
			t.Errorf("round %d: /readyz answered %d once writes went through again", round, status)
		}
		time.Sleep(time.Second) // load on a recovered server
	}
	// The elected background work came back too.
	waitJobsRun(t, srv, 15*time.Second)
	probe := "away-probe-final"
	if _, err := writeResumes(client, probe, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	load.finish(t, 30*time.Second)
	time.Sleep(1500 * time.Millisecond) // let the sealer seal the probe
	srv.stop()
	load.badAnswers(t, srv)

	lost, doubled := checkNothingLost(t, where, load, "away", probe)
	t.Logf("database away %d× %v: %d requests (%d reads), %d answered 503, %d answered 409 (retry while in progress), "+
		"%d receipts acknowledged, %d lost, %d applied twice; writes again %v after the database came back (each round: %v); slowest answer %v",
		rounds, outage, load.requests.Load(), load.reads.Load(), len(load.unavailable), load.conflicts.Load(),
		len(load.acked), lost, doubled, maxDuration(recoveries).Round(time.Millisecond), roundAll(recoveries), load.slowest.Round(time.Millisecond))
}

func maxDuration(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
