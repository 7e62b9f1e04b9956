package store_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// engineOutside lists where code outside this package may know the engines
// by name: the PostgreSQL test harness and the bench, which measures the
// drivers themselves.
var engineOutside = []string{
	"internal/pgtest/",
	"internal/benchdata/",
	"cmd/stocktrail/bench",
}

var (
	engineBranch = regexp.MustCompile(`Engine\(\)\s*(==|!=)|(==|!=)\s*store\.(SQLite|Postgres)\b|case\s+store\.(SQLite|Postgres)\b|switch\s[^{]*Engine\(\)|(==|!=)\s*engine\s*($|[{)&|,;])`)
	driverImport = regexp.MustCompile(`"(github\.com/jackc/pgx[^"]*|modernc\.org/sqlite[^"]*|github\.com/mattn/go-sqlite3[^"]*)"`)
)

// TestEngineDifferencesStayInStore fails when code outside internal/store
// branches on the database engine or imports a driver: what differs between
// SQLite and PostgreSQL is said once, here, through the primitives in
// sql.go (Pick, In, ForUpdate, Where, ConcurrentWriters, RoundTrips).
func TestEngineDifferencesStayInStore(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || rel == "internal/store" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") {
			return nil
		}
		for _, p := range engineOutside {
			if strings.HasPrefix(rel, p) {
				return nil
			}
		}
		checked++
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		s := bufio.NewScanner(f)
		s.Buffer(nil, 1<<20)
		for n := 1; s.Scan(); n++ {
			line := s.Text()
			if engineBranch.MatchString(line) || driverImport.MatchString(line) {
				bad = append(bad, rel+":"+itoa(n)+": "+strings.TrimSpace(line))
			}
		}
		return s.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked only %d Go files under %s: is the walk wrong?", checked, root)
	}
	if len(bad) > 0 {
		t.Errorf("%d engine branches or driver imports outside internal/store (use its primitives):\n%s", len(bad), strings.Join(bad, "\n"))
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
