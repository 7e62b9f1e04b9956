package qrlabel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	// MaxTagLen is the longest tag accepted, in characters (tags are ASCII,
	// so also bytes).
	MaxTagLen = 64
	// MaxScanLen bounds what Parse will look at. A real payload is at most
	// 4+19+1+64 = 88 bytes; anything far longer is a wrong code or a stuck
	// scanner, and refusing it early keeps error messages and work bounded.
	MaxScanLen = 512

	// payloadPrefix is upper case so that typical payloads stay within the
	// QR alphanumeric character set (see the package doc).
	payloadPrefix = "ST1"
)

// Errors returned (wrapped, with detail) by Parse and ValidTag. Callers can
// test for them with errors.Is to choose what to tell the person scanning.
var (
	ErrEmpty       = errors.New("qrlabel: empty scan")
	ErrTooLong     = errors.New("qrlabel: scan too long")
	ErrControlChar = errors.New("qrlabel: control character in scan")
	ErrBadTag      = errors.New("qrlabel: invalid tag")
	ErrMalformed   = errors.New("qrlabel: malformed label payload")
)

// Payload returns the text a label's QR code carries for an asset:
// "ST1:<workspaceID>:<tag>". A workspaceID <= 0 means "no workspace" and
// yields the bare tag, so Parse(Payload(0, t)) returns (0, t) just as it
// does for a hand-typed tag.
//
// Payload does not validate the tag (it cannot return an error); the
// renderers (PNG, SVG, Sheet) do, so no invalid label gets printed.
func Payload(workspaceID int64, tag string) string {
	if workspaceID <= 0 {
		return tag
	}
	return payloadPrefix + ":" + strconv.FormatInt(workspaceID, 10) + ":" + tag
}

// Parse reads what a scanner typed or a camera decoded: a payload from
// Payload, or a bare tag typed by hand. It returns the workspace id (0 for a
// bare tag) and the tag.
//
// Spaces, tabs, CR and LF at either end are ignored, because handheld
// scanners commonly append Enter or Tab as a suffix and hand-typed input
// picks up stray spaces. Anything else out of place is an error wrapping one
// of ErrEmpty, ErrTooLong, ErrControlChar, ErrBadTag or ErrMalformed, with a
// message that says what is wrong.
func Parse(scanned string) (workspaceID int64, tag string, err error) {
	if len(scanned) > MaxScanLen {
		return 0, "", fmt.Errorf("%w: %d bytes, at most %d expected", ErrTooLong, len(scanned), MaxScanLen)
	}
	s := strings.Trim(scanned, " \t\r\n")
	if s == "" {
		return 0, "", ErrEmpty
	}
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return 0, "", fmt.Errorf("%w: not valid UTF-8 at byte %d", ErrMalformed, i)
			}
		}
		// C0, DEL and C1 controls: typically a scanner configured with
		// a GS1/ASCII-control prefix, or binary garbage.
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return 0, "", fmt.Errorf("%w: %U at byte %d", ErrControlChar, r, i)
		}
	}

	prefix, rest, isPayload := strings.Cut(s, ":")
	if !isPayload {
		if err := ValidTag(s); err != nil {
			return 0, "", err
		}
		return 0, s, nil
	}

	// Accept "st1" too: scanners with Caps Lock on or a case-swapping
	// keyboard setting flip letter case, and the prefix is unambiguous.
	if !strings.EqualFold(prefix, payloadPrefix) {
		if len(prefix) > 2 && strings.EqualFold(prefix[:2], "ST") && isDigits(prefix[2:]) {
			return 0, "", fmt.Errorf("%w: unsupported payload version %q (this build reads %s)", ErrMalformed, prefix, payloadPrefix)
		}
		return 0, "", fmt.Errorf("%w: %q is not a stocktrail label (expected %s:<workspace>:<tag> or a bare tag)", ErrMalformed, clip(s), payloadPrefix)
	}
	wsText, tag, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, "", fmt.Errorf("%w: missing tag after workspace (expected %s:<workspace>:<tag>)", ErrMalformed, payloadPrefix)
	}
	ws, err := parseWorkspaceID(wsText)
	if err != nil {
		return 0, "", err
	}
	if err := ValidTag(tag); err != nil {
		return 0, "", err
	}
	return ws, tag, nil
}

// parseWorkspaceID accepts exactly what Payload writes: a positive decimal
// without sign or leading zeros. Being strict keeps one canonical payload per
// asset, so scans can be compared as strings.
func parseWorkspaceID(s string) (int64, error) {
	switch {
	case s == "":
		return 0, fmt.Errorf("%w: missing workspace id", ErrMalformed)
	case !isDigits(s):
		return 0, fmt.Errorf("%w: workspace id %q is not a positive decimal number", ErrMalformed, clip(s))
	case s[0] == '0':
		return 0, fmt.Errorf("%w: workspace id %q has a leading zero or is zero", ErrMalformed, clip(s))
	}
	ws, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: workspace id %q out of range", ErrMalformed, clip(s))
	}
	return ws, nil
}

// ValidTag reports whether a tag is acceptable: 1 to MaxTagLen characters,
// each an ASCII letter, digit, '-', '_', '.' or '/'. The error wraps
// ErrBadTag and names the first offending character.
func ValidTag(tag string) error {
	if tag == "" {
		return fmt.Errorf("%w: empty tag", ErrBadTag)
	}
	for i := 0; i < len(tag); i++ {
		if !tagByte(tag[i]) {
			r, _ := utf8.DecodeRuneInString(tag[i:])
			return fmt.Errorf("%w: character %q at position %d (allowed: letters, digits, '-', '_', '.', '/')", ErrBadTag, r, utf8.RuneCountInString(tag[:i])+1)
		}
	}
	if len(tag) > MaxTagLen {
		return fmt.Errorf("%w: %d characters, at most %d allowed", ErrBadTag, len(tag), MaxTagLen)
	}
	return nil
}

func tagByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '_', c == '.', c == '/':
		return true
	}
	return false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens user input quoted in error messages so a bad scan cannot
// produce a wall of text in the UI.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
