package qrlabel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/popplertest"
)

// TestSheetTextAndStructure reads a streamed sheet back with poppler: the
// file parses without complaint, has the pages it should, and its text
// (tags, names in several scripts, locations) comes out as written, which
// needs the fonts' widths and ToUnicode maps to be right.
func TestSheetTextAndStructure(t *testing.T) {
	pdfinfo := popplertest.Tool(t, "pdfinfo")
	pdftotext := popplertest.Tool(t, "pdftotext")
	paper, _ := PaperByName("avery-l7160")
	labels := manyLabels(50)
	labels[3].Name = "Größe Размер Ωmega"
	var buf bytes.Buffer
	if err := Sheet(&buf, labels, paper); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sheet.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command(pdfinfo, path).CombinedOutput()
	if err != nil || !strings.Contains(strings.Join(strings.Fields(string(info)), " "), "Pages: 3") || strings.Contains(strings.ToLower(string(info)), "error") {
		t.Fatalf("pdfinfo: %v\n%s", err, info)
	}
	text, err := exec.Command(pdftotext, "-layout", path, "-").CombinedOutput()
	if err != nil || strings.Contains(strings.ToLower(string(text)), "syntax error") {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	for _, want := range []string{"LAP-00001", "LAP-00050", "Laptop 17", "Größe Размер", "Ωmega", "Store room"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("text of the sheet lacks %q:\n%.2000s", want, text)
		}
	}
}
