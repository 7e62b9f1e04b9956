package web

import (
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
)

// TestTemplateFailureIsNotAHalfPage: a template that fails after writing
// some of the page once sent that part with a 200.
func TestTemplateFailureIsNotAHalfPage(t *testing.T) {
	wb := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	wb.pages["broken.html"] = template.Must(template.New("broken").Parse(`<p>first half</p>{{index .Data 5}}<p>second half</p>`))
	rec := httptest.NewRecorder()
	wb.render(rec, httptest.NewRequest(http.MethodGet, "/broken", nil), http.StatusOK, "broken.html", "Broken", []int{1}, nil)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "first half") {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
}

// TestOutagePage: a page whose database went away (a broken connection, as
// the store's driver reports it) is a 503 with Retry-After that says so,
// both through a page handler and before one runs (WriteError).
func TestOutagePage(t *testing.T) {
	wb := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	away := fmt.Errorf("list items: %w", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET})
	for name, answer := range map[string]func(http.ResponseWriter, *http.Request){
		"page":       wb.page(func(http.ResponseWriter, *http.Request) error { return away }),
		"WriteError": func(w http.ResponseWriter, r *http.Request) { WriteError(w, r, wb.cfg.Logger, away) },
	} {
		rec := httptest.NewRecorder()
		answer(rec, httptest.NewRequest(http.MethodGet, "/items", nil))
		body := rec.Body.String()
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
			!strings.Contains(body, "database is not available") || strings.Contains(body, "reset") {
			t.Errorf("%s: %d Retry-After %q %q", name, rec.Code, rec.Header().Get("Retry-After"), body)
		}
	}
}

// TestSentence: only a lower-case first letter changes; words further on
// keep their case and a first rune of several bytes is not split.
func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"your role (operator) may not move stock": "Your role (operator) may not move stock",
		"item iPhone-15 not found":                "Item iPhone-15 not found",
		"élan is not a location":                  "Élan is not a location",
		"SKU OIL-5 is taken":                      "SKU OIL-5 is taken",
		"42 rows were refused":                    "42 rows were refused",
		"  required ":                             "Required",
		"":                                        "",
	} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
