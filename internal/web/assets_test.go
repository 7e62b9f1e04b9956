package web_test

import (
	"fmt"
	"html"
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestSessionReportCSVSameOnPageAndAPI downloads a session's report from the
// web page and from the API and requires the same bytes and file name: a
// session with every kind of row (found by scan and by hand, missing,
// excluded, unexpected, staged changes) in a workspace away from UTC, with
// text that CSV must quote.
func TestSessionReportCSVSameOnPageAndAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ctx := f.Ctx
		tz := "Europe/Berlin"
		if _, err := workspace.Update(ctx, db, workspace.Change{TimeZone: &tz}); err != nil {
			t.Fatal(err)
		}
		wh, err := inventory.CreateLocation(ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]int64{}
		for tag, name := range map[string]string{"LAP-1": `Laptop, 14" "pro"`, "LAP-2": "Laptop; =second", "LAP-3": "Missing one", "LAP-4": "Excluded one"} {
			a, err := assets.CreateAsset(ctx, db, assets.AssetInput{Tag: ptr(tag), Name: ptr(name), LocationID: ptr(wh.ID)})
			if err != nil {
				t.Fatal(err)
			}
			ids[tag] = a.ID
		}
		s, err := assets.CreateSession(ctx, db, assets.SessionInput{Name: "Q1 count, WH1", LocationID: wh.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := assets.StartSession(ctx, db, s.ID); err != nil {
			t.Fatal(err)
		}
		// Created after the start, so a scan of it is unexpected.
		if _, err := assets.CreateAsset(ctx, db, assets.AssetInput{Tag: ptr("DRL-9"), Name: ptr("Drill")}); err != nil {
			t.Fatal(err)
		}
		for _, in := range []assets.ScanInput{{Code: "LAP-1"}, {AssetID: ids["LAP-2"]}, {Code: "DRL-9"}} {
			if _, err := assets.ScanAsset(ctx, db, s.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		if err := assets.ExcludeAsset(ctx, db, s.ID, ids["LAP-4"]); err != nil {
			t.Fatal(err)
		}
		if err := assets.StageChanges(ctx, db, s.ID, ids["LAP-1"], assets.StagedChange{Assignee: ptr("Grace, QA"), Comment: ptr("scratched")}); err != nil {
			t.Fatal(err)
		}

		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		b := login(t, srv.URL, f)
		download := func(path string) (string, string) {
			t.Helper()
			res, err := b.c.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
				t.Fatalf("GET %s: %d %s\n%s", path, res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			return string(body), res.Header.Get("Content-Disposition")
		}
		for _, when := range []string{"in progress", "completed"} {
			if when == "completed" {
				if _, err := assets.FinishSession(ctx, db, s.ID); err != nil {
					t.Fatal(err)
				}
			}
			page, pageName := download(fmt.Sprintf("/inventory-checks/%d/report.csv", s.ID))
			api, apiName := download(fmt.Sprintf("/api/v1/inventory-sessions/%d/report.csv", s.ID))
			if page != api {
				t.Errorf("%s: the page's CSV differs from the API's\npage:\n%s\napi:\n%s", when, page, api)
			}
			if pageName != apiName {
				t.Errorf("%s: file names differ: page %q, api %q", when, pageName, apiName)
			}
			// The report must be worth comparing: every kind of row is in it.
			wants := []string{",found,", ",missing,", ",excluded,", ",unexpected,", `"Laptop, 14"" ""pro"""`}
			if when == "in progress" {
				wants = append(wants, "(staged, not applied yet)")
			}
			for _, want := range wants {
				if !strings.Contains(page, want) {
					t.Errorf("%s: report lacks %q:\n%s", when, want, page)
				}
			}
		}
	})
}

// TestSessionPagePagesAndFilters: a session of 250 assets shows 100 rows a
// page, the next link walks the rest, and the filters narrow the list.
func TestSessionPagePagesAndFilters(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ctx := f.Ctx
		var csv strings.Builder
		csv.WriteString("tag,name\n")
		for i := 0; i < 250; i++ {
			fmt.Fprintf(&csv, "T-%03d,Table %d\n", i, i)
		}
		if _, err := assets.ImportAssets(ctx, db, strings.NewReader(csv.String())); err != nil {
			t.Fatal(err)
		}
		s, err := assets.CreateSession(ctx, db, assets.SessionInput{Name: "Tables"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := assets.StartSession(ctx, db, s.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := assets.ScanAsset(ctx, db, s.ID, assets.ScanInput{Code: "T-200"}); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		b := login(t, srv.URL, f)
		rows := regexp.MustCompile(`<tr id="item-\d+"`)
		next := regexp.MustCompile(`href="([^"]+)" id="items-next"`)
		path := fmt.Sprintf("/inventory-checks/%d", s.ID)
		var seen, pages int
		for path != "" {
			status, body := b.get(path)
			if status != 200 {
				t.Fatalf("%s: %d", path, status)
			}
			seen += len(rows.FindAllString(body, -1))
			pages++
			path = ""
			if m := next.FindStringSubmatch(body); m != nil {
				path = html.UnescapeString(m[1])
			}
		}
		if seen != 250 || pages != 3 {
			t.Fatalf("%d rows over %d pages", seen, pages)
		}
		_, body := b.get(fmt.Sprintf("/inventory-checks/%d?state=scanned", s.ID))
		if n := len(rows.FindAllString(body, -1)); n != 1 || !strings.Contains(body, "T-200") || !strings.Contains(body, "1 found · 249 not scanned yet") {
			t.Fatalf("scanned filter: %d rows", n)
		}
		_, body = b.get(fmt.Sprintf("/inventory-checks/%d?q=table+1", s.ID))
		if n := len(rows.FindAllString(body, -1)); n != 100 { // "Table 1", 10–19, 100–199: 111, the first 100
			t.Fatalf("search: %d rows", n)
		}
		if status, body := b.get(fmt.Sprintf("/inventory-checks/%d?state=gone", s.ID)); status != 422 || !strings.Contains(body, "must be scanned") {
			t.Fatalf("bad state: %d", status)
		}
		if status, _ := b.get(fmt.Sprintf("/inventory-checks/%d?after=x", s.ID)); status != 400 {
			t.Fatalf("bad after: %d", status)
		}
	})
}
