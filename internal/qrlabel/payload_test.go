package qrlabel

import (
	"errors"
	"strings"
	"testing"
)

func TestPayload(t *testing.T) {
	tests := []struct {
		ws   int64
		tag  string
		want string
	}{
		{7, "LAP-00042", "ST1:7:LAP-00042"},
		{9223372036854775807, "a/b.c_d", "ST1:9223372036854775807:a/b.c_d"},
		{0, "LAP-00042", "LAP-00042"}, // no workspace: bare tag
		{-3, "X", "X"},
	}
	for _, tt := range tests {
		if got := Payload(tt.ws, tt.tag); got != tt.want {
			t.Errorf("Payload(%d, %q) = %q, want %q", tt.ws, tt.tag, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tag64 := strings.Repeat("A", 64)
	tests := []struct {
		name    string
		in      string
		ws      int64
		tag     string
		wantErr error
	}{
		// Valid payloads.
		{"payload", "ST1:7:LAP-00042", 7, "LAP-00042", nil},
		{"payload lower-case prefix", "st1:7:LAP-00042", 7, "LAP-00042", nil},
		{"payload mixed-case prefix", "St1:12:x", 12, "x", nil},
		{"payload all tag chars", "ST1:1:aZ09-_./", 1, "aZ09-_./", nil},
		{"payload max ws", "ST1:9223372036854775807:T", 9223372036854775807, "T", nil},
		{"payload 64-char tag", "ST1:5:" + tag64, 5, tag64, nil},
		{"payload scanner CR LF suffix", "ST1:7:LAP-00042\r\n", 7, "LAP-00042", nil},
		{"payload scanner tab suffix", "ST1:7:LAP-00042\t", 7, "LAP-00042", nil},
		{"payload surrounding spaces", "  ST1:7:LAP-00042 ", 7, "LAP-00042", nil},

		// Bare tags typed by hand.
		{"bare tag", "LAP-00042", 0, "LAP-00042", nil},
		{"bare tag lower", "lap-00042", 0, "lap-00042", nil},
		{"bare tag one char", "x", 0, "x", nil},
		{"bare tag slashes dots", "rack/3.shelf_2", 0, "rack/3.shelf_2", nil},
		{"bare tag 64", tag64, 0, tag64, nil},
		{"bare tag newline", "LAP-1\n", 0, "LAP-1", nil},
		{"bare tag looks like prefix", "ST1", 0, "ST1", nil},

		// Empty.
		{"empty", "", 0, "", ErrEmpty},
		{"only spaces", "   ", 0, "", ErrEmpty},
		{"only newline", "\r\n", 0, "", ErrEmpty},

		// Too long.
		{"too long", strings.Repeat("A", MaxScanLen+1), 0, "", ErrTooLong},
		{"too long payload", "ST1:1:" + strings.Repeat("A", MaxScanLen), 0, "", ErrTooLong},
		{"too long even if trimmed", strings.Repeat(" ", MaxScanLen) + "A", 0, "", ErrTooLong},

		// Control characters.
		{"nul inside", "LAP\x00-1", 0, "", ErrControlChar},
		{"newline inside", "LAP\n-1", 0, "", ErrControlChar},
		{"escape", "\x1b[A", 0, "", ErrControlChar},
		{"group separator", "ST1:7:LAP\x1d42", 0, "", ErrControlChar},
		{"DEL", "LAP\x7f", 0, "", ErrControlChar},
		{"C1 control", "LAP\u0085", 0, "", ErrControlChar},

		// Bad tag characters / length.
		{"bare tag space", "LAP 42", 0, "", ErrBadTag},
		{"bare tag unicode", "LÄP-42", 0, "", ErrBadTag},
		{"bare tag too long", tag64 + "A", 0, "", ErrBadTag},
		{"bare tag hash", "LAP#42", 0, "", ErrBadTag},
		{"payload empty tag", "ST1:7:", 0, "", ErrBadTag},
		{"payload tag with colon", "ST1:7:A:B", 0, "", ErrBadTag},
		{"payload tag space", "ST1:7:A B", 0, "", ErrBadTag},
		{"payload tag too long", "ST1:7:" + tag64 + "A", 0, "", ErrBadTag},

		// Malformed payloads.
		{"invalid utf8", "LAP\xff", 0, "", ErrMalformed},
		{"unknown prefix", "XX1:7:LAP", 0, "", ErrMalformed},
		{"future version", "ST2:7:LAP", 0, "", ErrMalformed},
		{"url", "https://example.com/a/7/LAP", 0, "", ErrMalformed},
		{"prefix only", "ST1:", 0, "", ErrMalformed},
		{"missing tag separator", "ST1:7", 0, "", ErrMalformed},
		{"missing ws", "ST1::LAP", 0, "", ErrMalformed},
		{"ws zero", "ST1:0:LAP", 0, "", ErrMalformed},
		{"ws leading zero", "ST1:07:LAP", 0, "", ErrMalformed},
		{"ws negative", "ST1:-7:LAP", 0, "", ErrMalformed},
		{"ws plus", "ST1:+7:LAP", 0, "", ErrMalformed},
		{"ws not number", "ST1:abc:LAP", 0, "", ErrMalformed},
		{"ws overflow", "ST1:9223372036854775808:LAP", 0, "", ErrMalformed},
		{"leading colon", ":LAP", 0, "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, tag, err := Parse(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
				}
				if ws != 0 || tag != "" {
					t.Errorf("Parse(%q) returned values (%d, %q) with an error", tt.in, ws, tag)
				}
				if len(err.Error()) > 200 {
					t.Errorf("error message too long (%d bytes): %v", len(err.Error()), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error = %v", tt.in, err)
			}
			if ws != tt.ws || tag != tt.tag {
				t.Errorf("Parse(%q) = (%d, %q), want (%d, %q)", tt.in, ws, tag, tt.ws, tt.tag)
			}
		})
	}
}

func TestValidTag(t *testing.T) {
	for _, tag := range []string{"A", "LAP-00042", "a_b.c/d-9", strings.Repeat("z", MaxTagLen)} {
		if err := ValidTag(tag); err != nil {
			t.Errorf("ValidTag(%q) = %v, want nil", tag, err)
		}
	}
	for _, tag := range []string{"", " ", "A B", "A:B", "Ä", "tab\t", strings.Repeat("z", MaxTagLen+1), "a\x00"} {
		if err := ValidTag(tag); !errors.Is(err, ErrBadTag) {
			t.Errorf("ValidTag(%q) = %v, want ErrBadTag", tag, err)
		}
	}
	// The message should point at the offending character.
	if err := ValidTag("LAP#1"); err == nil || !strings.Contains(err.Error(), `'#' at position 4`) {
		t.Errorf("ValidTag(LAP#1) = %v, want position of '#'", err)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	for _, ws := range []int64{0, 1, 7, 123456789, 9223372036854775807} {
		for _, tag := range []string{"A", "LAP-00042", "x/y.z_w", strings.Repeat("Q", MaxTagLen)} {
			gotWS, gotTag, err := Parse(Payload(ws, tag))
			if err != nil || gotWS != ws || gotTag != tag {
				t.Errorf("Parse(Payload(%d, %q)) = (%d, %q, %v)", ws, tag, gotWS, gotTag, err)
			}
		}
	}
}
