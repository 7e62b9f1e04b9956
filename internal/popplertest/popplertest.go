// Package popplertest finds poppler-utils' command-line tools (pdftotext,
// pdftoppm) for tests that check a PDF by reading its text or rasterising
// it, as a viewer or printer driver would.
//
// Environment:
//
//   - STOCKTRAIL_REQUIRE_POPPLER=1: a missing tool fails the test instead of
//     skipping it. CI sets it, so that a broken install cannot turn the PDF
//     checks into silent skips.
package popplertest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// EnvRequire makes a missing tool a failure. See the package documentation.
const EnvRequire = "STOCKTRAIL_REQUIRE_POPPLER"

// Tool returns the path of the poppler tool name. When it is not installed
// the test is skipped, or fails if STOCKTRAIL_REQUIRE_POPPLER=1.
func Tool(t testing.TB, name string) string {
	t.Helper()
	path, err := find(name)
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal(err)
		}
		t.Skipf("%v (set %s=1 to fail instead)", err, EnvRequire)
	}
	return path
}

// Lookup is Tool for a test that checks more than the PDF: when the tool is
// not installed it logs that the check is left out and reports false (the
// rest of the test goes on), or fails if STOCKTRAIL_REQUIRE_POPPLER=1.
func Lookup(t testing.TB, name string) (string, bool) {
	t.Helper()
	path, err := find(name)
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal(err)
		}
		t.Logf("%v: its check is left out (set %s=1 to fail instead)", err, EnvRequire)
		return "", false
	}
	return path, true
}

func find(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("popplertest: %s not installed (Debian package poppler-utils): %v", name, err)
	}
	return path, nil
}
