package export

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 255, 4096, 100_003} {
		a := make([]byte, rng.IntN(1000))
		b := make([]byte, n)
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		want := crc32.ChecksumIEEE(append(bytes.Clone(a), b...))
		got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b)))
		if got != want {
			t.Errorf("len(b)=%d: combine = %08x, want %08x", n, got, want)
		}
	}
}

// TestXLSXManyChunks writes enough rows for the compressor to take many
// hand-overs and checks every row reads back; reading the sheet part to the
// end also makes archive/zip verify the combined CRC-32.
func TestXLSXManyChunks(t *testing.T) {
	const n = 8_000
	rows := make([][]any, n)
	base := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("SKU-%06d", i), fmt.Sprintf("%d.%03d", i, i%1000), "pcs", "receive",
			"alice", "Dock 1", base.Add(time.Duration(i) * time.Minute), int64(i)}
	}
	f, raw := writeXLSX(t, inventoryCols, time.UTC, "Big", rows...)
	sheet := zipEntry(t, raw, "xl/worksheets/sheet1.xml")
	if len(sheet) < 4*deflateChunk {
		t.Fatalf("sheet only %d bytes; the test should span several chunks", len(sheet))
	}
	got, err := f.GetRows("Big")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n+1 {
		t.Fatalf("%d rows read back, want %d", len(got), n+1)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		if got[i+1][0] != rows[i][0] || got[i+1][1] != rows[i][1] || got[i+1][7] != fmt.Sprint(i) {
			t.Errorf("row %d = %q", i+2, got[i+1])
		}
	}
	if !strings.Contains(sheet, fmt.Sprintf(`<dimension ref="A1:H%d"`, n+1)) {
		t.Errorf("dimension missing or wrong: %.300s", sheet)
	}
}

// TestXLSXTextEscaping covers the text that cannot be copied as is.
func TestXLSXTextEscaping(t *testing.T) {
	cols := []Column{{Title: "Text", Kind: Text}}
	long := strings.Repeat("x", 40_000)
	in := []string{
		"plain", "a_b", "_x0041_ stays literal", " leading space", "trailing tab\t",
		"quote \" and ' apostrophe", "<tag> & amp", "bell\a char", "Grüße", long,
	}
	rows := make([][]any, len(in))
	for i, s := range in {
		rows[i] = []any{s}
	}
	f, _ := writeXLSX(t, cols, nil, "s", rows...)
	want := map[int]string{
		7: "bell\uFFFD char",
		9: long[:32767],
	}
	for i, s := range in {
		got, err := f.GetCellValue("s", fmt.Sprintf("A%d", i+2))
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[i]
		if !ok {
			w = s
		}
		if got != w {
			t.Errorf("row %d: got %.60q, want %.60q", i+2, got, w)
		}
	}
}

// TestDeflateSinkError checks that a failing temporary file surfaces from
// Write or Close instead of leaving the writer blocked or the file short.
func TestDeflateSinkError(t *testing.T) {
	s, err := newDeflateSink(failingWriter{})
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("<row>no</row>"), 10_000)
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		_, werr = s.Write(chunk)
	}
	_, cerr := s.Close()
	if werr == nil && cerr == nil {
		t.Fatal("no error from a failing writer")
	}
}
