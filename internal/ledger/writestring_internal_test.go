package ledger

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The canonical form's strings are encoding/json's (no HTML escaping),
// whichever path writeString takes.
func TestWriteStringIsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain text 123", `quote " here`, `back\slash`, "tab\tnew\nline\r", "\x00\x1f\x7f",
		"<b>&amp;</b>", "Zürich Lager → Süd", "line\u2028sep\u2029", "bad \xff utf-8", "emoji 📦", "/slash/", strings.Repeat("a", 300)} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		writeString(&got, s)
		if got.String() != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("%q: wrote %s, encoding/json writes %s", s, got.String(), want.String())
		}
	}
}
