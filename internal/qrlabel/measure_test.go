package qrlabel

import (
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestSheetStreamsInBoundedMemory prints 5,000 labels (238 pages) and
// samples the heap meanwhile: a sheet is written page by page, so its peak
// must stay far below the ~110 MB the whole-document writer (fpdf) needed
// for the same sheet.
func TestSheetStreamsInBoundedMemory(t *testing.T) {
	p, _ := PaperByName("avery-l7160")
	labels := manyLabels(5000)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	start := time.Now()
	cw := &countWriter{}
	err := Sheet(cw, labels, p)
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	var end runtime.MemStats
	runtime.ReadMemStats(&end)
	if grew := peak.Load() - min(peak.Load(), base.HeapAlloc); grew > 30<<20 {
		t.Errorf("peak heap grew by %d MB while streaming 5,000 labels", grew>>20)
	}
	t.Logf("5000 labels: %d bytes of PDF in %s; peak heap %.1f MB above %.1f MB; allocated %.1f MB in total",
		cw.n, time.Since(start), float64(peak.Load()-base.HeapAlloc)/1e6, float64(base.HeapAlloc)/1e6, float64(end.TotalAlloc-base.TotalAlloc)/1e6)
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
