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
// client process, which the bench command starts from its own executable,
// and as the server the crash suite kills.
func TestMain(m *testing.M) {
	// The crash suite (crash_test.go) runs the test binary as a server it
	// can SIGKILL.
	if len(os.Args) > 1 && (os.Args[1] == "bench-load" || os.Args[1] == "serve" && os.Getenv(crashServerEnv) == "1") {
		if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

// TestBenchFlags refuses what the bench cannot run, naming the flag.
func TestBenchFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--only", "pages,scan"}, `--only: unknown part "scan"`},
		{[]string{"--only", "scans", "--scanners", "0"}, "--scanners"},
		{[]string{"--only", "scans", "--scan-rounds", "-1"}, "--scan-rounds"},
	} {
		out, err := runCLI(t, append([]string{"bench", "--data", t.TempDir()}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bench %v: %v, want an error naming %s\n%s", tc.args, err, tc.want, out)
		}
	}
}

// TestBenchCommand runs every part of `stocktrail bench` on a small
// workspace on both engines: it loads, seals, checks the invariant and
// prints each figure, the batch comparison's and the sealing comparison's
// rounds and medians included, and the session scans with sealing on.
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
				"--queries", "10", "--seconds", "1", "--clients", "4", "--batch-clients", "2", "--batch-rounds", "2", "--seal-rounds", "2",
				"--scanners", "4", "--scans-per-scanner", "5", "--scan-rounds", "2")...)
			if err != nil {
				t.Fatalf("bench: %v\n%s", err, out)
			}
			for _, want := range []string{
				`workspace holds 3000 log entries, 300 item-locations`,
				`invariant \(records, levels, checkpoints, allocations\)\s+ok`,
				`whole workspace as of \(300\)\s+p50 `,
				`seal the pending entries\s+300\d entries in .*, \d+ entries/s`,
				`inclusion proof \(tree of 300\d\)\s+p50 .* p99 `,
				`proof size\s+\d+–\d+ bytes as JSON, median \d+; audit path of \d+–\d+ hashes, \d+–\d+ bytes of it`,
				`receipts over HTTP, 4 clients\s+\d+/s .*, sealing off`,
				`receipts over HTTP, 4 clients\s+\d+/s .*, sealing on`,
				`sealed the off round's entries\s+\d+ entries`,
				`round 2 sealing on ÷ off\s+\d+% of off`,
				`receipts, sealing on ÷ off\s+median \d+% of off over 2 rounds`,
				`seal lag under receipt load\s+p50 .* p99 .* over [1-9]\d* entries`,
				`round 2 ratio\s+\d+% of raw`,
				`batch endpoint ÷ raw, 2 clients\s+median \d+% of raw over 2 rounds`,
				`scan session\s+40 fresh assets on the list`,
				`session scans, 4 scanners\s+p50 .* p99 .* \d+ scans/s \(2 rounds of 4 × 5\), sealing on  \(target p99 ≤ 50ms\)`,
				`CPU\s+\S+ per scan`,
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
			// --seal=false leaves the ledger alone: no sealing, no proofs.
			out, err = runCLI(t, append(append([]string{"bench"}, where...), "--entries", "0", "--only", "check,proofs", "--seal=false")...)
			if err != nil || !regexp.MustCompile(`invariant \(records, levels, checkpoints, allocations\)\s+ok`).MatchString(out) {
				t.Fatalf("check after the bench: %v\n%s", err, out)
			}
			if strings.Contains(out, "seal") || strings.Contains(out, "proof") {
				t.Errorf("--seal=false sealed or proved:\n%s", out)
			}
			out, err = runCLI(t, append(append([]string{"bench"}, where...), "--entries", "0", "--only", "scans", "--seal=false",
				"--scanners", "3", "--scans-per-scanner", "2", "--scan-rounds", "1")...)
			if err != nil || !regexp.MustCompile(`session scans, 3 scanners\s+p50 .* \(1 rounds of 3 × 2\), sealing off`).MatchString(out) {
				t.Fatalf("scans alone, sealing off: %v\n%s", err, out)
			}
		})
	}
}
