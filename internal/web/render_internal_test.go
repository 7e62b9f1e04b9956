package web

import (
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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
