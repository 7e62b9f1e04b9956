package plaintext_test

import (
	"testing"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
)

func TestControlCharactersRefused(t *testing.T) {
	for _, s := range []string{"a\x00b", "\x1b[31mred", "bell\a", "del\x7f", "c1\u0085", "bad\xffutf8"} {
		if err := plaintext.Check("lot", s); !fault.Is(err, fault.Invalid) {
			t.Errorf("Check(%q) = %v", s, err)
		}
		if err := plaintext.Line("lot", s); !fault.Is(err, fault.Invalid) {
			t.Errorf("Line(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "LOT-7", "Müller & Söhne", "箱 12", "emoji 📦"} {
		if err := plaintext.Line("name", s); err != nil {
			t.Errorf("Line(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"two\nlines", "tab\there", "crlf\r\n"} {
		if err := plaintext.Check("notes", s); err != nil {
			t.Errorf("Check(%q) = %v", s, err)
		}
		if err := plaintext.Line("name", s); !fault.Is(err, fault.Invalid) {
			t.Errorf("Line(%q) = %v", s, err)
		}
	}
	if e, ok := fault.As(plaintext.Check("lot", "x\x00")); !ok || e.Fields["lot"] == "" {
		t.Errorf("the field is not named: %v", e)
	}
}
