package plaintext_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
)

// FuzzCheck holds Check and Line to the documented rule, computed here
// independently: valid UTF-8 without control characters (C0, DEL, C1) other
// than tab and line breaks; Line also refuses those three. A refusal is an
// Invalid fault naming the field it was given.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "plain", "two\nlines", "tab\there", "crlf\r\n", "nul\x00", "esc\x1b[31m", "del\x7f",
		"c1 \u0085", "c1 \u009b", "bad \xff utf8", "half \xe2\x82", "é ü 漢字 🙂", "\u2028 line separator", "\ufeffbom"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		wantCheck := utf8.ValidString(s)
		wantLine := wantCheck
		for _, r := range s {
			if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
				wantCheck = false
			}
			if unicode.IsControl(r) {
				wantLine = false
			}
		}
		checkRefusal(t, "Check", plaintext.Check("note", s), wantCheck)
		checkRefusal(t, "Line", plaintext.Line("note", s), wantLine)
		if (plaintext.Problem(s) == "") != wantCheck {
			t.Fatalf("Problem(%q) = %q, want accepted %v", s, plaintext.Problem(s), wantCheck)
		}
	})
}

func checkRefusal(t *testing.T, name string, err error, accept bool) {
	t.Helper()
	if accept {
		if err != nil {
			t.Fatalf("%s refused plain text: %v", name, err)
		}
		return
	}
	e, ok := fault.As(err)
	if !ok || e.Kind != fault.Invalid || strings.TrimSpace(e.Fields["note"]) == "" {
		t.Fatalf("%s: want an Invalid fault naming the field, got %#v", name, err)
	}
}
