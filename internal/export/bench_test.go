package export

import (
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchCols is the shape of an inventory change-log export: the seven
// columns the product promises first, then three more.
var benchCols = []Column{
	{Title: "SKU", Kind: Text},
	{Title: "Quantity", Kind: Number},
	{Title: "Unit", Kind: Text},
	{Title: "Action type", Kind: Text},
	{Title: "User", Kind: Text},
	{Title: "Station", Kind: Text},
	{Title: "Timestamp", Kind: Time},
	{Title: "Note", Kind: Text},
	{Title: "Balance", Kind: Number},
	{Title: "Change ID", Kind: Integer},
}

// benchRowMaker returns a function filling row i with realistic values. The
// strings are prebuilt so the benchmark measures the writer, not fmt.
func benchRowMaker() func(i int, row []any) {
	skus := make([]string, 1000)
	for i := range skus {
		skus[i] = "SKU-" + strconv.Itoa(100000+i)
	}
	qty := []string{"-12.500", "3", "0.250", "1000.000", "-1"}
	actions := []string{"receive", "pick", "adjust", "transfer", "count"}
	users := []string{"alice", "bob", "carol", "dave"}
	stations := []string{"Dock 1", "Aisle 7 scanner", "Front desk"}
	notes := []string{"", "cycle count", "damaged in transit, see ticket #4411", "=not a formula"}
	base := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	return func(i int, row []any) {
		row[0] = skus[i%len(skus)]
		row[1] = qty[i%len(qty)]
		row[2] = "pcs"
		row[3] = actions[i%len(actions)]
		row[4] = users[i%len(users)]
		row[5] = stations[i%len(stations)]
		row[6] = base.Add(time.Duration(i) * time.Second)
		if n := notes[i%len(notes)]; n != "" {
			row[7] = n
		} else {
			row[7] = nil
		}
		row[8] = qty[(i+2)%len(qty)]
		row[9] = int64(i)
	}
}

// peakMem samples the Go heap while a benchmark runs. MemStats.Sys only
// says what the process ever took from the OS; sampling HeapInuse catches
// the live high-water mark of this run alone.
type peakMem struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	peakHeap uint64
}

func startPeakMem() *peakMem {
	runtime.GC()
	p := &peakMem{stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > p.peakHeap {
				p.peakHeap = ms.HeapInuse
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// report stops sampling and records the peaks as benchmark metrics.
func (p *peakMem) report(b *testing.B) {
	close(p.stop)
	p.wg.Wait()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	const mb = 1 << 20
	b.ReportMetric(float64(p.peakHeap)/mb, "peak-heap-inuse-MB")
	b.ReportMetric(float64(ms.HeapSys)/mb, "heap-sys-MB")
	b.ReportMetric(float64(ms.Sys)/mb, "go-sys-MB")
	if hwm := vmHWM(); hwm > 0 {
		// Process-lifetime peak RSS: meaningful when the benchmark is run
		// on its own (-bench '^BenchmarkXLSX1M$').
		b.ReportMetric(float64(hwm)/mb, "peak-rss-MB")
	}
}

// vmHWM reads the process's peak resident set size on Linux, 0 elsewhere.
func vmHWM() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// writeRows pushes n benchmark rows through a writer and closes it.
func writeRows(b *testing.B, tw TableWriter, n int) {
	b.Helper()
	fill := benchRowMaker()
	row := make([]any, len(benchCols))
	for i := 0; i < n; i++ {
		fill(i, row)
		if err := tw.WriteRow(row); err != nil {
			b.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
}

// countingWriter discards output but keeps its size, to report file size.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

const millionRows = 1_000_000

// BenchmarkXLSX1M writes one million 10-column rows per iteration and
// reports time, throughput and memory peaks. Run with -benchtime=1x.
func BenchmarkXLSX1M(b *testing.B) {
	b.ReportAllocs()
	pm := startPeakMem()
	var out countingWriter
	start := time.Now()
	for b.Loop() {
		out.n = 0
		tw, err := NewXLSX(&out, benchCols, time.UTC, "Changes")
		if err != nil {
			b.Fatal(err)
		}
		writeRows(b, tw, millionRows)
	}
	elapsed := time.Since(start)
	pm.report(b)
	b.ReportMetric(float64(millionRows*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(out.n)/(1<<20), "file-MB")
}

// BenchmarkCSV1M is the CSV counterpart of BenchmarkXLSX1M.
func BenchmarkCSV1M(b *testing.B) {
	b.ReportAllocs()
	pm := startPeakMem()
	var out countingWriter
	start := time.Now()
	for b.Loop() {
		out.n = 0
		tw, err := NewCSV(&out, benchCols, time.UTC)
		if err != nil {
			b.Fatal(err)
		}
		writeRows(b, tw, millionRows)
	}
	elapsed := time.Since(start)
	pm.report(b)
	b.ReportMetric(float64(millionRows*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(out.n)/(1<<20), "file-MB")
}

// BenchmarkXLSXRow and BenchmarkCSVRow measure the per-row cost with b.N
// rows, so allocs/op is per row.
func BenchmarkXLSXRow(b *testing.B) {
	benchPerRow(b, func(w io.Writer) (TableWriter, error) { return NewXLSX(w, benchCols, time.UTC, "Changes") })
}

func BenchmarkCSVRow(b *testing.B) {
	benchPerRow(b, func(w io.Writer) (TableWriter, error) { return NewCSV(w, benchCols, time.UTC) })
}

func BenchmarkPDFRow(b *testing.B) {
	benchPerRow(b, func(w io.Writer) (TableWriter, error) {
		return NewPDF(w, benchCols, time.UTC, PDFMeta{Title: "Benchmark", Generated: time.Now()})
	})
}

func benchPerRow(b *testing.B, newWriter func(io.Writer) (TableWriter, error)) {
	b.ReportAllocs()
	tw, err := newWriter(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	fill := benchRowMaker()
	row := make([]any, len(benchCols))
	n := 0
	for b.Loop() {
		if n >= MaxPDFRows {
			// Keep long runs within every format's row cap.
			b.StopTimer()
			if err := tw.Close(); err != nil {
				b.Fatal(err)
			}
			if tw, err = newWriter(io.Discard); err != nil {
				b.Fatal(err)
			}
			n = 0
			b.StartTimer()
		}
		fill(n, row)
		if err := tw.WriteRow(row); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.StopTimer()
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPDFMax writes MaxPDFRows rows, the largest PDF the package will
// build, to show the memory the cap allows.
func BenchmarkPDFMax(b *testing.B) {
	b.ReportAllocs()
	pm := startPeakMem()
	var out countingWriter
	start := time.Now()
	for b.Loop() {
		out.n = 0
		tw, err := NewPDF(&out, benchCols, time.UTC, PDFMeta{Title: "Inventory changes", Filters: []string{"User: alice"}, Generated: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		writeRows(b, tw, MaxPDFRows)
	}
	elapsed := time.Since(start)
	pm.report(b)
	b.ReportMetric(float64(MaxPDFRows*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(out.n)/(1<<20), "file-MB")
}
