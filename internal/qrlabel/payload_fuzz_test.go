package qrlabel

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: whatever a scanner sends, Parse either returns a valid tag that
// round-trips through Payload (a label printed from it scans back to the
// same workspace and tag, and is the scan itself up to the prefix's case and
// the blanks a scanner adds), or an error wrapping one of its documented
// sentinels.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"ST1:42:LAPTOP-001", "st1:42:laptop-001", "LAPTOP-001\r\n", "\tA/B.C_D\n", "ST1:0:X", "ST1:042:X",
		"ST1:-4:X", "ST1:9223372036854775808:X", "ST1:9223372036854775807:Q", "", "LAP\x00", "ST1::", "a:b:c:d", "ST2:1:X", "ST1:1:", "ST1::X", "ST1:1", "http://evil/?x", "tag with space",
		"é", "\x1d01123", "\xff", strings.Repeat("A", 65), strings.Repeat("x", 600), "ST1:1:A:B"} {
		f.Add(s)
	}
	sentinels := []error{ErrEmpty, ErrTooLong, ErrControlChar, ErrBadTag, ErrMalformed}
	f.Fuzz(func(t *testing.T, scanned string) {
		ws, tag, err := Parse(scanned)
		if err != nil {
			if ws != 0 || tag != "" {
				t.Fatalf("Parse(%q) returned (%d, %q) with error %v", scanned, ws, tag, err)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("Parse(%q): error %v wraps no documented sentinel", scanned, err)
		}
		if ws < 0 {
			t.Fatalf("Parse(%q): workspace %d", scanned, ws)
		}
		if err := ValidTag(tag); err != nil {
			t.Fatalf("Parse(%q) accepted an invalid tag %q: %v", scanned, tag, err)
		}
		payload := Payload(ws, tag)
		ws2, tag2, err := Parse(payload)
		if err != nil || ws2 != ws || tag2 != tag {
			t.Fatalf("Payload(%d, %q) = %q parses as %d %q %v", ws, tag, payload, ws2, tag2, err)
		}
		trimmed := strings.Trim(scanned, " \t\r\n")
		if ws == 0 && trimmed != tag || ws > 0 && !(strings.EqualFold(trimmed[:3], "ST1") && trimmed[3:] == payload[3:]) {
			t.Fatalf("Parse(%q) = %d %q, which prints as %q: not the scan", scanned, ws, tag, payload)
		}
	})
}
