package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/web"
)

// notPages are the GET routes of the web router that a person never reads
// as a page, so the browser test of every page does not open them. Nothing
// else may be left out: a new page is looked at, or named here with why.
var notPages = map[string]string{
	"GET /static/": "stylesheets, scripts and images",
	// Downloads: files saved, not pages (their contents are read by tests
	// of their own: the CSV in words, the PDF through poppler).
	"GET /activity/export.csv":              "download (CSV of the activity log)",
	"GET /activity/export.pdf":              "download (PDF of the activity log)",
	"GET /reports/audit/export.csv":         "download (CSV of an audit report)",
	"GET /reports/audit/export.pdf":         "download (PDF of an audit report)",
	"GET /inventory/log/export":             "download (the change log as CSV, XLSX or PDF)",
	"GET /inventory/import/template.csv":    "download (the bulk update's CSV template)",
	"GET /inventory/import/template.xlsx":   "download (the bulk update's XLSX template)",
	"GET /inventory-checks/{id}/report.csv": "download (a session's report)",
	"GET /search/suggest":                   "an HTML fragment search.js puts under the header's search box (looked at inside the pages, by TestHomeSearchAndChartsInBrowser)",
	"GET /orders/by-number/{number}":        "redirect only: to the order's page",
}

// subpages are the values a page route's last {segment} takes: each is a
// page of its own, so each is looked at.
var subpages = map[string][]string{
	"GET /inventory/items/{id}/{action}": web.ItemActionSlugs(),
	"GET /orders/{id}/{view}":            {"history", "ship", "cancel"},
}

// TestEveryPageIsLookedAt fails when the web router has a GET route (or
// the catch-all, whose 404 page people meet) that the browser test of every
// page (TestEveryPageOnAPhoneAndADesk) does not open and notPages does not
// name; and when notPages names a route that no longer exists.
func TestEveryPageIsLookedAt(t *testing.T) {
	routes := pageRoutes(t)
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.HandleFunc(r, func(http.ResponseWriter, *http.Request) {})
	}
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	seen := map[string][]string{}
	for _, p := range everyPage(t, f).pages {
		_, pattern := mux.Handler(httptest.NewRequest("GET", p.path, nil))
		seen[pattern] = append(seen[pattern], p.path)
	}
	for _, r := range routes {
		if _, ok := notPages[r]; ok {
			if len(seen[r]) > 0 {
				t.Errorf("%s is opened as a page (%v) but listed in notPages", r, seen[r])
			}
			continue
		}
		if len(seen[r]) == 0 {
			t.Errorf("no page of %s is looked at: add one to everyPage, or name the route in notPages with why", r)
		}
		for _, v := range subpages[r] {
			if !slices.ContainsFunc(seen[r], func(path string) bool {
				path, _, _ = strings.Cut(path, "?")
				return strings.HasSuffix(path, "/"+v)
			}) {
				t.Errorf("%s: the %q page is not looked at", r, v)
			}
		}
	}
	for r := range notPages {
		if !slices.Contains(routes, r) {
			t.Errorf("notPages names %s, which the router no longer has", r)
		}
	}
}

// pageRoutes reads the web package's sources for the routes it registers
// (mux.HandleFunc and mux.Handle) and returns those a browser opens: GET
// ones and those for every method (the catch-all). A pattern that is not a
// string literal cannot be checked, so it fails the test.
func pageRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var routes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "mux" {
				return true
			}
			arg := call.Args[0]
			lit, ok := arg.(*ast.BasicLit)
			if !ok {
				// A pattern built from parts ("POST /orders/{id}/" + action)
				// is fine for a form's target, not for a page.
				first := arg
				for {
					b, ok := first.(*ast.BinaryExpr)
					if !ok {
						break
					}
					first = b.X
				}
				l, ok := first.(*ast.BasicLit)
				if !ok || !strings.HasPrefix(l.Value, `"POST `) {
					t.Errorf("%s: a route pattern that is not a string literal cannot be checked", fset.Position(arg.Pos()))
				}
				return true
			}
			pattern, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			method, _, hasMethod := strings.Cut(pattern, " ")
			if !hasMethod || method == "GET" {
				routes = append(routes, pattern)
			}
			return true
		})
	}
	if len(routes) < 40 {
		t.Fatalf("found only %d page routes: %v", len(routes), routes)
	}
	return routes
}
