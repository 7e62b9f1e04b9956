package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/pgtest"
)

// TestMain lets the test binary stand in for stocktrail as the benchmark's
// client process, which the bench command starts from its own executable.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "bench-load" {
		if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

// TestBenchCommand runs every part of `stocktrail bench` on a small
// workspace on both engines: it loads, checks the invariant and prints each
// figure, the batch comparison's rounds and median included.
func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a workspace and runs HTTP load")
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			where := []string{"--data", t.TempDir()}
			if engine == "postgres" {
				where = []string{"--db", pgtest.NewDatabase(t)}
			}
			out, err := runCLI(t, append(append([]string{"bench"}, where...), "--entries", "3000", "--items", "30", "--locations", "10",
				"--queries", "10", "--seconds", "1", "--clients", "4", "--batch-clients", "2", "--batch-rounds", "2")...)
			if err != nil {
				t.Fatalf("bench: %v\n%s", err, out)
			}
			for _, want := range []string{
				`workspace holds 3000 log entries, 300 item-locations`,
				`invariant \(records, levels, checkpoints\)\s+ok`,
				`whole workspace as of \(300\)\s+p50 `,
				`receipts over HTTP, 4 clients\s+\d+/s`,
				`round 2 ratio\s+\d+% of raw`,
				`batch endpoint ÷ raw, 2 clients\s+median \d+% of raw over 2 rounds`,
			} {
				if !regexp.MustCompile(want).MatchString(out) {
					t.Errorf("no %q in:\n%s", want, out)
				}
			}
			if strings.Contains(out, "failed)") && !regexp.MustCompile(`\(\d+ ok, 0 failed\)`).MatchString(out) {
				t.Errorf("requests failed:\n%s", out)
			}
			// The measurements leave the workspace consistent, raw rows
			// included.
			out, err = runCLI(t, append(append([]string{"bench"}, where...), "--entries", "0", "--only", "check")...)
			if err != nil || !regexp.MustCompile(`invariant \(records, levels, checkpoints\)\s+ok`).MatchString(out) {
				t.Fatalf("check after the bench: %v\n%s", err, out)
			}
		})
	}
}
