// Package plaintext keeps control characters out of the text people and
// programs send: a NUL or an ANSI escape (ESC [31m) stored in a lot or a
// name reaches every export, terminal and log that later shows it. The
// edges (JSON bodies, forms, imports) check every value with Check; fields
// that are one line (names, codes, lots) also use Line.
package plaintext

import (
	"fmt"
	"unicode/utf8"

	"github.com/stocktrail/stocktrail/internal/fault"
)

// Problem returns what is wrong with s as text, or "": invalid UTF-8, a C0
// control other than tab, line feed and carriage return, DEL, or a C1
// control (U+0080–U+009F).
func Problem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	for i, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return fmt.Sprintf("holds a control character (U+%04X at byte %d); send plain text", r, i+1)
		}
	}
	return ""
}

// Check refuses s for field when Problem finds something, naming the field.
func Check(field, s string) error {
	if p := Problem(s); p != "" {
		return fault.Field(field, p)
	}
	return nil
}

// Line is Check for one-line fields: tabs and line breaks are refused too.
func Line(field, s string) error {
	if err := Check(field, s); err != nil {
		return err
	}
	for i, r := range s {
		if r == '\t' || r == '\n' || r == '\r' {
			return fault.Field(field, fmt.Sprintf("must be one line (a tab or line break at byte %d)", i+1))
		}
	}
	return nil
}
