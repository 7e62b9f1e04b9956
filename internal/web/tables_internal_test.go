package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestEveryTableCellIsLabelled: on a phone every table becomes a stack of
// cards (app.css), where the column headers are gone and each cell shows its
// data-label instead. A cell without one reads as a bare value. Only cells
// spanning the row (an empty list's message) and row-actions cells (buttons
// that name themselves) may go without.
func TestEveryTableCellIsLabelled(t *testing.T) {
	cell := regexp.MustCompile(`<td(\s[^>]*)?>`)
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	cells := 0
	for _, name := range files {
		b, err := templateFiles.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cell.FindAllString(string(b), -1) {
			cells++
			if strings.Contains(m, "data-label=") || strings.Contains(m, "colspan=") || strings.Contains(m, "row-actions") {
				continue
			}
			t.Errorf("%s: %s has no data-label (its column's name on a phone)", name, m)
		}
	}
	if cells < 50 {
		t.Fatalf("only %d table cells found in the templates: is the pattern still right?", cells)
	}
}

// TestOneTablePattern: the phone layout of tables is app.css's alone; a
// second pattern (the old table.cards, table.stacked) must not come back.
func TestOneTablePattern(t *testing.T) {
	for _, fsys := range []fs.FS{templateFiles, staticFiles} {
		err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, path)
			if err != nil {
				return err
			}
			for _, old := range []string{"table.cards", "table.stacked", `class="stacked"`, `class="cards"`, "overflow-x: auto"} {
				if strings.Contains(string(b), old) {
					t.Errorf("%s still has %q: tables have one phone layout, in app.css", path, old)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
