package ledger

import (
	"bytes"
	"io"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// syntheticBundle streams a whole-ledger bundle of n activity events,
// generated line by line (a million entries would not fit comfortably in
// memory on a small machine): each is a realistic canonical entry whose id
// varies. Generating a line is a copy, cheap beside hashing it.
type syntheticBundle struct {
	n, seq   int64
	head     []byte
	pre, suf []byte
	buf      []byte
	tail     bool
}

func newSyntheticBundle(b *testing.B, n int64) (func() io.Reader, string) {
	values := []any{int64(1), int64(0), int64(1796611500073522), "user", int64(7), "Dana Whitfield", "UPDATE", "inventory",
		"item", "OIL-5", `{"quantity":"4.50"}`, `{"quantity":"5.50"}`, "Received 1 l of Engine oil at WH1 (PO-2024-0117)",
		"192.0.2.10", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "01HZX3K9Q7V2R8M4N6P0T5W1YC", nil, nil, nil}
	entry := encode(ActivityEvents, values)
	pre, suf, _ := bytes.Cut(entry, []byte(`"id":0,`))
	s := &syntheticBundle{n: n, pre: append(pre, `"id":`...), suf: append([]byte(","), suf...)}
	fold := &treeFold{}
	for i := int64(0); i < n; i++ {
		fold.add(LeafHash(s.entry(nil, i)))
	}
	_, key, err := NewKey("bench")
	if err != nil {
		b.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: checkpointBody("stocktrail/0000000000000000/workspace/1", n, fold.root())}, key.signer)
	if err != nil {
		b.Fatal(err)
	}
	head, _ := jsonLine(bundleHeader{Format: bundleFormat, Selection: bundleAll, Workspace: 1, Checkpoint: string(signed), VerifierKeys: []string{key.Verifier}})
	return func() io.Reader {
		c := *s
		c.head = head
		return &c
	}, key.Verifier
}

func (s *syntheticBundle) entry(dst []byte, seq int64) []byte {
	dst = append(dst, s.pre...)
	dst = strconv.AppendInt(dst, seq+1, 10)
	return append(dst, s.suf...)
}

func (s *syntheticBundle) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		switch {
		case s.head != nil:
			s.buf, s.head = s.head, nil
		case s.seq < s.n:
			s.buf = append(strconv.AppendInt(append(s.buf[:0], `{"seq":`...), s.seq, 10), `,"entry":`...)
			s.buf = append(s.entry(s.buf, s.seq), "}\n"...)
			s.seq++
		case !s.tail:
			s.tail = true
			s.buf = []byte(`{"end":` + strconv.FormatInt(s.n, 10) + "}\n")
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// BenchmarkVerifyBundle verifies a complete bundle of a million entries
// (the target is 500,000 entries a second on one core).
func BenchmarkVerifyBundle(b *testing.B) {
	const n = 1_000_000
	open, key := newSyntheticBundle(b, n)
	cpu := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := VerifyBundle(open(), []string{key})
		if err != nil || !r.OK() || !r.Complete || r.Entries != n {
			b.Fatalf("%v %s", err, r.Summary())
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	// On a shared machine the wall clock says little: entries per second
	// of this process's CPU time is the figure to compare with the target.
	b.ReportMetric(float64(n)*float64(b.N)/(cpuTime()-cpu).Seconds(), "entries/cpu-s")
}

func cpuTime() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func TestLeafHasherIsLeafHash(t *testing.T) {
	h := newLeafHasher()
	for _, d := range []string{"", "a", `{"v":"x"}`, string(make([]byte, 1000))} {
		if h.leaf([]byte(d)) != LeafHash([]byte(d)) {
			t.Fatalf("%q", d)
		}
	}
}
