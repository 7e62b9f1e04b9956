package benchdata

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
)

// ScanLoad is many people scanning one inventory session at once:
// Rounds rounds, in each of which Scanners goroutines scan PerScanner
// assets each, one after another with no pause, every scan a different
// asset on the session's list (so each is a real "found" write with its
// activity event and progress). BenchmarkScanLatency50 and `stocktrail
// bench --only scans` both run it.
type ScanLoad struct {
	Scanners, PerScanner, Rounds int
}

// Scans is how many scans the load makes, and so how many assets its
// session needs.
func (l ScanLoad) Scans() int { return l.Scanners * l.PerScanner * l.Rounds }

// ScanSession is an In progress session whose list holds fresh assets
// alone, ready for a ScanLoad.
type ScanSession struct {
	ID int64
	// Tags are the tags of the assets on the list, in the order the load
	// scans them.
	Tags []string
}

// NewScanSession creates n assets with tags no earlier run used, in a new
// location of their own, and starts a session over that location, so that
// its list holds those assets alone however many a reused database has.
// The actor in ctx must be allowed to manage the catalogue, assets and
// sessions.
func NewScanSession(ctx context.Context, db *store.DB, n int) (ScanSession, error) {
	run := strings.ToUpper(strconv.FormatInt(time.Now().UnixNano(), 36))
	loc, err := inventory.CreateLocation(ctx, db, inventory.LocationInput{Kind: inventory.Other, Code: "SCAN-" + run, Name: "Scan bench " + run})
	if err != nil {
		return ScanSession{}, fmt.Errorf("scan bench location: %w", err)
	}
	s := ScanSession{Tags: make([]string, n)}
	for i := range s.Tags {
		s.Tags[i] = fmt.Sprintf("SCAN-%s-%06d", run, i)
	}
	// ImportAssets takes at most MaxImportRows rows a file.
	for from := 0; from < n; from += assets.MaxImportRows {
		var csv strings.Builder
		csv.WriteString("tag,name,location\n")
		for _, tag := range s.Tags[from:min(n, from+assets.MaxImportRows)] {
			fmt.Fprintf(&csv, "%s,Scan bench asset %s,%s\n", tag, tag, loc.Path)
		}
		if _, err := assets.ImportAssets(ctx, db, strings.NewReader(csv.String())); err != nil {
			return ScanSession{}, fmt.Errorf("scan bench assets: %w", err)
		}
	}
	session, err := assets.CreateSession(ctx, db, assets.SessionInput{Name: "Scan bench " + run, LocationID: loc.ID})
	if err != nil {
		return ScanSession{}, err
	}
	if _, err := assets.StartSession(ctx, db, session.ID); err != nil {
		return ScanSession{}, err
	}
	s.ID = session.ID
	return s, nil
}

// Run makes the load's scans in s (which needs at least l.Scans() tags)
// and returns the latency of each, sorted, measured around
// assets.ScanAsset (the scan's transaction and the progress it answers
// with). Every scan must find its asset, and the session's progress must
// count every scan at the end; anything else is an error.
func (l ScanLoad) Run(ctx context.Context, db *store.DB, s ScanSession) ([]time.Duration, error) {
	if l.Scanners < 1 || l.PerScanner < 1 || l.Rounds < 1 {
		return nil, fmt.Errorf("scan load: scanners, scans per scanner and rounds must be at least 1")
	}
	if len(s.Tags) < l.Scans() {
		return nil, fmt.Errorf("scan load: %d scans but %d assets on the list", l.Scans(), len(s.Tags))
	}
	before, err := assets.GetSessionProgress(ctx, db, s.ID)
	if err != nil {
		return nil, err
	}
	latencies := make([]time.Duration, 0, l.Scans())
	var mu sync.Mutex
	var failed error
	for round := 0; round < l.Rounds && failed == nil; round++ {
		var wg sync.WaitGroup
		for g := 0; g < l.Scanners; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				mine := make([]time.Duration, 0, l.PerScanner)
				for i := 0; i < l.PerScanner; i++ {
					n := (round*l.Scanners+g)*l.PerScanner + i
					start := time.Now()
					r, err := assets.ScanAsset(ctx, db, s.ID, assets.ScanInput{Code: s.Tags[n], ClientScanID: "bench-" + s.Tags[n]})
					mine = append(mine, time.Since(start))
					if err == nil && r.Outcome != assets.Found {
						err = fmt.Errorf("%s: outcome %s, want found", s.Tags[n], r.Outcome)
					}
					if err != nil {
						mu.Lock()
						if failed == nil {
							failed = fmt.Errorf("scan %s: %w", s.Tags[n], err)
						}
						mu.Unlock()
						return
					}
				}
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			}(g)
		}
		wg.Wait()
	}
	if failed != nil {
		return nil, failed
	}
	after, err := assets.GetSessionProgress(ctx, db, s.ID)
	if err != nil {
		return nil, err
	}
	if got := after.Scanned - before.Scanned; got != len(latencies) {
		return nil, fmt.Errorf("scan load: the session's progress counted %d scans, %d were made", got, len(latencies))
	}
	slices.Sort(latencies)
	return latencies, nil
}

// Percentile is the p-th percentile (0–100) of sorted latencies, nearest
// rank below.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p/100*float64(len(sorted)-1))]
}
