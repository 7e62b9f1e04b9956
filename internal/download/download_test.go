package download_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/download"
)

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"inventory-log-20240131-154500.csv": "inventory-log-20240131-154500.csv",
		`a"b.csv`:                           "a-b.csv",
		"évier; rm -rf.pdf":                 "-vier--rm--rf.pdf",
		"../../etc/passwd":                  "-..-etc-passwd",
		"line\r\nbreak.csv":                 "line--break.csv",
		"..":                                "download",
		"":                                  "download",
	} {
		if got := download.SafeName(in); got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := download.Stamped("activity", "csv", time.Date(2024, 1, 31, 16, 45, 0, 0, time.FixedZone("CET", 3600))); got != "activity-20240131-154500.csv" {
		t.Errorf("Stamped: %q", got)
	}
}

func TestSend(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := download.Send(rec, download.File{Name: `report "1".csv`, ContentType: "text/csv; charset=utf-8"}, []byte("a,b\n")); err != nil {
		t.Fatal(err)
	}
	h := rec.Header()
	if h.Get("Content-Disposition") != `attachment; filename="report--1-.csv"` || h.Get("Content-Type") != "text/csv; charset=utf-8" ||
		h.Get("Cache-Control") != "no-store" || rec.Body.String() != "a,b\n" {
		t.Fatalf("%v %q", h, rec.Body)
	}
}

func TestStream(t *testing.T) {
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	f := download.File{Name: "x.csv", ContentType: "text/csv"}
	req := httptest.NewRequest("GET", "/x", nil)

	rec := httptest.NewRecorder()
	if err := download.Stream(rec, req, logger, f, func(w io.Writer) error { _, err := io.WriteString(w, "a,b\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 200 || rec.Body.String() != "a,b\n" || !strings.Contains(rec.Header().Get("Content-Disposition"), `filename="x.csv"`) {
		t.Fatalf("stream: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}

	// Refused before the first byte: the error is the answer, and nothing
	// says "download" any more.
	refused := errors.New("no such SKU")
	rec = httptest.NewRecorder()
	if err := download.Stream(rec, req, logger, f, func(io.Writer) error { return refused }); err != refused {
		t.Fatalf("refusal: %v", err)
	}
	if rec.Header().Get("Content-Disposition") != "" || rec.Header().Get("Content-Type") != "" || rec.Body.Len() != 0 || logged.Len() != 0 {
		t.Fatalf("refusal left %v %q (logged %q)", rec.Header(), rec.Body, logged.String())
	}

	// Failed after it: the file is cut short and the failure logged.
	rec = httptest.NewRecorder()
	err := download.Stream(rec, req, logger, f, func(w io.Writer) error {
		io.WriteString(w, "a,b\n")
		return errors.New("disk on fire")
	})
	if err != nil || rec.Body.String() != "a,b\n" || !strings.Contains(logged.String(), "disk on fire") || !strings.Contains(logged.String(), "x.csv") {
		t.Fatalf("cut short: %v %q, logged %q", err, rec.Body, logged.String())
	}
	if rec.Code != http.StatusOK {
		t.Fatalf("cut short: %d", rec.Code)
	}
}
