package param_test

import (
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/param"
)

// wholeNumber is the grammar Int documents: an optional sign and decimal
// digits (strconv's), whose value must then be 0 or more.
var wholeNumber = regexp.MustCompile(`^[+-]?[0-9]+$`)

// FuzzInt: an accepted value is the number the text says, non-negative, and
// reads back from its canonical form; a refusal is a Malformed fault (400)
// naming the parameter, never a silent 0.
func FuzzInt(f *testing.F) {
	for _, s := range []string{"", "0", "7", "+7", "-0", "-1", "007", "1e3", "0x10", "1_000", " 5", "9223372036854775807",
		"9223372036854775808", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n, err := param.Int(url.Values{"limit": {raw}}, "limit")
		if raw == "" {
			if n != 0 || err != nil {
				t.Fatalf("absent: %d %v", n, err)
			}
			return
		}
		want, perr := strconv.ParseInt(raw, 10, 64)
		accept := wholeNumber.MatchString(raw) && perr == nil && want >= 0
		if !accept {
			e, ok := fault.As(err)
			if !ok || e.Kind != fault.Malformed || e.Fields["limit"] == "" || fault.HTTPStatus(e.Kind) != 400 {
				t.Fatalf("Int(%q) = %d, %v: want a 400 naming limit", raw, n, err)
			}
			return
		}
		if err != nil || n != want {
			t.Fatalf("Int(%q) = %d, %v; want %d", raw, n, err, want)
		}
		again, err := param.Int(url.Values{"limit": {strconv.FormatInt(n, 10)}}, "limit")
		if err != nil || again != n {
			t.Fatalf("canonical %d reads back as %d, %v", n, again, err)
		}
	})
}
