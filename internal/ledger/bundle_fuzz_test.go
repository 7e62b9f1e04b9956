package ledger_test

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// entryLines maps each entry line's sequence number to its canonical entry,
// read as VerifyBundle's documented line shape says:
// {"seq":N[,"proof":[…]],"entry":{…}}.
func entryLines(data []byte) map[int64][]string {
	out := map[int64][]string{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte(`{"seq":`))
		if !ok {
			continue
		}
		i := bytes.IndexAny(rest, ",}")
		if i < 0 {
			continue
		}
		seq, err := strconv.ParseInt(string(rest[:i]), 10, 64)
		j := bytes.Index(rest, []byte(`,"entry":`))
		if err != nil || j < 0 || !bytes.HasSuffix(rest, []byte("}")) {
			continue
		}
		out[seq] = append(out[seq], string(rest[j+len(`,"entry":`):len(rest)-1]))
	}
	return out
}

// FuzzVerifyBundle mutates real bundles (the whole ledger and one log, with
// proofs) of a sealed workspace. Whatever the bytes, VerifyBundle must not
// panic, and it may pass a bundle only if every entry it holds is the
// sealed entry at that sequence number, of the workspace the checkpoint
// was signed for: nothing altered, added or moved verifies.
func FuzzVerifyBundle(f *testing.F) {
	db := storetest.Open(f, store.SQLite)
	w := sealedWorld(f, db)
	key := w.sealer.Key.Verifier
	all, _ := w.bundle(f, ledger.BundleSelection{})
	sealed := map[int64]string{}
	for seq, entries := range entryLines(all) {
		sealed[seq] = entries[0]
	}
	f.Add(all)
	for _, log := range ledger.Logs {
		one, _ := w.bundle(f, ledger.BundleSelection{Log: log})
		f.Add(one)
	}
	first, _, _ := bytes.Cut(all, []byte("\n"))
	f.Add(append(append([]byte{}, first...), '\n'))
	f.Add([]byte(strings.Replace(string(all), `"quantity":"4.5"`, `"quantity":"45"`, 1)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ledger.VerifyBundle(bytes.NewReader(data), []string{key})
		if err != nil || !r.OK() {
			if err == nil && len(r.Problems) == 0 {
				t.Fatal("refused without a problem")
			}
			return
		}
		if r.Workspace != w.f.Workspace.ID {
			t.Fatalf("a bundle for workspace %d verifies", r.Workspace)
		}
		for seq, entries := range entryLines(data) {
			for _, e := range entries {
				if sealed[seq] != e {
					t.Fatalf("the bundle verifies with entry %d altered: %s", seq, e)
				}
			}
		}
		if r.Complete && r.Entries != int64(len(sealed)) {
			t.Fatalf("complete with %d of %d entries", r.Entries, len(sealed))
		}
	})
}

// FuzzParseCheckpoint: the checkpoint note's text and the checkpoint log.
// An accepted checkpoint reads the same from its canonical form; an
// accepted checkpoint log splits into notes that each have text, a blank
// line and signature lines, taken from the log in order.
func FuzzParseCheckpoint(f *testing.F) {
	for _, s := range []string{
		"stocktrail.example/workspace/1\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"o\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "o\n1\nAAAA\n", "o\n1\n", "",
		"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— key abc=\n\n",
		"o\n1\nr\n\n— k sig\n— k2 sig\n\no\n2\nr\n\n— k sig\n",
		"o\n1\nr\n\nnot a signature\n", "o\n1\nr\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if c, err := ledger.ParseCheckpoint(text); err == nil {
			if c.Size < 0 {
				t.Fatalf("size %d", c.Size)
			}
			canon := c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n"
			again, err := ledger.ParseCheckpoint(canon)
			if err != nil || again != c {
				t.Fatalf("%q → %+v → %q → %+v, %v", text, c, canon, again, err)
			}
		}
		notes, err := ledger.ParseCheckpointLog([]byte(text))
		if err != nil {
			return
		}
		at := 0
		for _, n := range notes {
			i := strings.Index(text[at:], string(n))
			if len(n) == 0 || i < 0 {
				t.Fatalf("note %q is not in the log %q after byte %d", n, text, at)
			}
			at += i + len(n)
			// Text lines, a blank line, then only signature lines (a cut
			// log may end before them: opening the note refuses it).
			lines := strings.SplitAfter(string(n), "\n")
			if strings.TrimSpace(lines[0]) == "" {
				t.Fatalf("note %q starts with a blank line", n)
			}
			blank := false
			for _, line := range lines {
				switch {
				case strings.TrimSpace(line) == "" && line != "":
					blank = true
				case blank && line != "" && !strings.HasPrefix(line, "— "):
					t.Fatalf("note %q: %q after the blank line is no signature", n, line)
				}
			}
			if !blank {
				t.Fatalf("note %q has no blank line before its signatures", n)
			}
		}
	})
}

// FuzzParseBundleLog: the log named by ?log= is all (or nothing) or one of
// the logs; anything else is an Invalid fault naming log.
func FuzzParseBundleLog(f *testing.F) {
	for _, s := range []string{"", "all", "inventory_log", "activity_events", "ALL", "inventory_log ", "ledger_leaves"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		l, err := ledger.ParseBundleLog(name)
		if err != nil {
			if e, ok := fault.As(err); !ok || e.Kind != fault.Invalid || e.Fields["log"] == "" {
				t.Fatalf("%q: refusal %v does not name log", name, err)
			}
			return
		}
		if !(l == "" && (name == "" || name == "all") || string(l) == name && l.Valid()) {
			t.Fatalf("%q read as %q", name, l)
		}
	})
}
