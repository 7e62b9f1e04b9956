package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/qrlabel"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

type client struct {
	t   *testing.T
	url string
	key string
}

func (c client) do(method, path, contentType string, body []byte, headers ...string) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res, out
}

func (c client) json(method, path string, in any, wantStatus int) map[string]any {
	c.t.Helper()
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	res, out := c.do(method, path, "application/json", body)
	if res.StatusCode != wantStatus {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, wantStatus, out)
	}
	var m map[string]any
	json.Unmarshal(out, &m)
	return m
}

func TestAssetsAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		key, err := f.Auth.CreateAPIKey(f.Ctx, "scanner", actor.Admin)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		c := client{t: t, url: srv.URL, key: key.Secret}

		a := c.json("POST", "/api/v1/assets", map[string]any{"tag": "CAM-1", "name": "Camera"}, 201)
		id := int64(a["id"].(float64))
		c.json("POST", "/api/v1/assets", map[string]any{"tag": "CAM-1", "name": "Again"}, 409)
		c.json("POST", "/api/v1/assets", map[string]any{"tag": "bad tag", "name": "x"}, 422)
		c.json("POST", "/api/v1/assets", map[string]any{"tag": "X", "nme": "typo"}, 400)
		res, out := c.do("POST", "/api/v1/assets/import", "text/csv", []byte("tag,name\nCAM-2,Second camera\n"))
		if res.StatusCode != 201 {
			t.Fatalf("import %d %s", res.StatusCode, out)
		}
		list := c.json("GET", "/api/v1/assets?q=cam", nil, 200)
		if list["total"].(float64) != 2 {
			t.Fatalf("list %v", list)
		}

		// The PNG label scans back to the asset with an ordinary QR reader.
		res, out = c.do("GET", fmt.Sprintf("/api/v1/assets/%d/label.png", id), "", nil)
		if res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("label %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		img, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
		decoded, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
		if err != nil {
			t.Fatal(err)
		}
		ws, tag, err := qrlabel.Parse(decoded.GetText())
		if err != nil || ws != f.Workspace.ID || tag != "CAM-1" {
			t.Fatalf("decoded %q: %d %s %v", decoded.GetText(), ws, tag, err)
		}
		if res, _ := c.do("GET", fmt.Sprintf("/api/v1/assets/%d/label.svg", id), "", nil); res.Header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("svg %s", res.Header.Get("Content-Type"))
		}
		if res, out := c.do("GET", "/api/v1/assets/labels.pdf?paper=avery-5160", "", nil); res.StatusCode != 200 || !bytes.HasPrefix(out, []byte("%PDF")) {
			t.Fatalf("sheet %d %.40s", res.StatusCode, out)
		}
		if res, _ := c.do("GET", "/api/v1/assets/labels.pdf?paper=napkin", "", nil); res.StatusCode != 422 {
			t.Fatalf("bad paper %d", res.StatusCode)
		}

		// Photos: checked type, served inert.
		var pngBuf bytes.Buffer
		png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 4, 4)))
		res, out = c.do("POST", fmt.Sprintf("/api/v1/assets/%d/photos", id), "image/png", pngBuf.Bytes())
		if res.StatusCode != 201 {
			t.Fatalf("photo %d %s", res.StatusCode, out)
		}
		var photo struct{ ID int64 }
		json.Unmarshal(out, &photo)
		res, _ = c.do("GET", fmt.Sprintf("/api/v1/asset-photos/%d", photo.ID), "", nil)
		if res.Header.Get("Content-Type") != "image/png" || res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("photo headers %v", res.Header)
		}
		for _, bad := range [][]byte{[]byte("<html><script>alert(1)</script>"), append([]byte("\xff\xd8\xff\xe0"), make([]byte, 64)...)} {
			if res, out := c.do("POST", fmt.Sprintf("/api/v1/assets/%d/photos", id), "image/jpeg", bad); res.StatusCode != 415 {
				t.Fatalf("fake photo %d %s", res.StatusCode, out)
			}
		}
		if res, _ := c.do("POST", fmt.Sprintf("/api/v1/assets/%d/photos", id), "image/png", make([]byte, 9<<20)); res.StatusCode != 413 {
			t.Fatalf("oversized photo %d", res.StatusCode)
		}

		// A session through the API.
		s := c.json("POST", "/api/v1/inventory-sessions", map[string]any{"name": "API run"}, 201)
		sp := fmt.Sprintf("/api/v1/inventory-sessions/%d", int64(s["id"].(float64)))
		c.json("POST", sp+"/scans", map[string]any{"code": "CAM-1"}, 409)
		c.json("POST", sp+"/start", nil, 200)
		first := c.json("POST", sp+"/scans", map[string]any{"code": qrlabel.Payload(f.Workspace.ID, "CAM-1"), "client_scan_id": "p-1"}, 201)
		again := c.json("POST", sp+"/scans", map[string]any{"code": qrlabel.Payload(f.Workspace.ID, "CAM-1"), "client_scan_id": "p-1"}, 200)
		if first["outcome"] != "found" || again["duplicate"] != true {
			t.Fatalf("scan %v / %v", first, again)
		}
		body, _ := json.Marshal(map[string]any{"code": "CAM-2"})
		// The retry replays the first answer (the idempotency middleware)
		// and counts nothing twice.
		var answers []string
		for i := 0; i < 2; i++ {
			res, out := c.do("POST", sp+"/scans", "application/json", body, "Idempotency-Key", "retry-me")
			if res.StatusCode != 201 || (i == 1) != (res.Header.Get("Idempotent-Replayed") == "true") {
				t.Fatalf("idempotency key attempt %d: %d %v %s", i, res.StatusCode, res.Header, out)
			}
			answers = append(answers, string(out))
		}
		if answers[0] != answers[1] {
			t.Fatalf("replay differs: %s / %s", answers[0], answers[1])
		}
		c.json("POST", sp+"/scans", map[string]any{"code": "ST1:9x:CAM-1"}, 422)
		c.json("POST", sp+"/scans", map[string]any{"code": "GHOST"}, 404)
		c.json("POST", sp+"/exclude", map[string]any{"asset_id": id}, 409)
		c.json("POST", fmt.Sprintf("%s/items/%d/stage", sp, id), map[string]any{"condition": "poor", "comment": "lens scratched"}, 204)
		prog := c.json("GET", sp+"/progress", nil, 200)
		if prog["progress"].(map[string]any)["percent"].(float64) != 100 {
			t.Fatalf("progress %v", prog)
		}
		c.json("POST", sp+"/finish", nil, 200)
		c.json("POST", sp+"/finish", nil, 409)
		c.json("POST", sp+"/scans", map[string]any{"code": "CAM-1"}, 409)
		res, out = c.do("GET", sp+"/report.csv", "", nil)
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(out), "CAM-1") {
			t.Fatalf("report %s %s", res.Header.Get("Content-Type"), out)
		}
		got := c.json("GET", fmt.Sprintf("/api/v1/assets/%d", id), nil, 200)
		if got["condition"] != "poor" {
			t.Fatalf("applied %v", got)
		}

		c.json("POST", "/api/v1/inventory-schedules", map[string]any{"name": "never", "recurrence": "cron", "cron": "0 0 31 2 *"}, 422)
		c.json("POST", "/api/v1/inventory-schedules", map[string]any{"name": "weekly", "recurrence": "weekly", "time": "08:00", "weekdays": []int{1}}, 201)
	})
}

// TestOpenAPICoversAssets: every assets and sessions route is documented.
func TestOpenAPICoversAssets(t *testing.T) {
	raw, err := api.OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	json.Unmarshal(raw, &doc)
	a := api.New(api.Config{})
	a.Register(http.NewServeMux())
	for _, p := range a.Patterns() {
		method, path, _ := strings.Cut(p, " ")
		if !strings.Contains(path, "asset") && !strings.Contains(path, "inventory-") {
			continue
		}
		if doc.Paths[path][strings.ToLower(method)] == nil {
			t.Errorf("%s is not in the OpenAPI document", p)
		}
	}
}

// TestAssetLifecycleAndScheduleEditAPI: retire, dispose, delete and restore
// through the API, with bad input refused and nothing changed; schedules
// read, replaced and deleted.
func TestAssetLifecycleAndScheduleEditAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		key, err := f.Auth.CreateAPIKey(f.Ctx, "integrator", actor.Admin)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		c := client{t: t, url: srv.URL, key: key.Secret}
		one := int64(c.json("POST", "/api/v1/assets", map[string]any{"tag": "SCOPE-1", "name": "Oscilloscope"}, 201)["id"].(float64))
		two := int64(c.json("POST", "/api/v1/assets", map[string]any{"tag": "SCOPE-2", "name": "Oscilloscope"}, 201)["id"].(float64))
		path := func(id int64, rest string) string { return fmt.Sprintf("/api/v1/assets/%d%s", id, rest) }

		if got := c.json("POST", path(one, "/retire"), map[string]any{"reason": "old"}, 200); got["status"] != "retired" {
			t.Fatalf("retire: %v", got)
		}
		c.json("POST", path(one, "/retire"), map[string]any{}, 409)
		c.json("POST", path(one, "/reinstate"), map[string]any{"reason": 1}, 400)
		if got := c.json("POST", path(one, "/reinstate"), map[string]any{}, 200); got["status"] != "active" {
			t.Fatalf("reinstate: %v", got)
		}

		today := time.Now().Format(time.DateOnly)
		bad := c.json("POST", path(one, "/disposal"), map[string]any{"date": "yesterday", "method": "sold", "reason": ""}, 422)
		if errs, _ := json.Marshal(bad); !strings.Contains(string(errs), "date") || !strings.Contains(string(errs), "reason") {
			t.Fatalf("bad disposal answer names no fields: %s", errs)
		}
		c.json("POST", path(one, "/disposal"), map[string]any{"date": today, "method": "sold", "reason": "x", "price": 3}, 400)
		d := c.json("POST", path(one, "/disposal"), map[string]any{"date": today, "method": "scrapped", "reason": "burnt out"}, 200)
		if disp, _ := d["disposal"].(map[string]any); disp["method"] != "scrapped" || disp["on"] != today {
			t.Fatalf("dispose: %v", d)
		}
		c.json("PATCH", path(one, ""), map[string]any{"name": "renamed"}, 409)

		c.json("DELETE", path(two, "?reason=entered+twice"), nil, 200)
		c.json("DELETE", path(two, ""), nil, 409)
		c.json("DELETE", path(987654, ""), nil, 404)
		if got := c.json("GET", path(two, ""), nil, 200); got["deleted"] == nil {
			t.Fatalf("a deleted asset by URL: %v", got)
		}
		if got := c.json("GET", "/api/v1/assets", nil, 200); got["total"].(float64) != 0 {
			t.Fatalf("register lists removed assets: %v", got)
		}
		if got := c.json("GET", "/api/v1/assets?show=removed", nil, 200); got["total"].(float64) != 2 {
			t.Fatalf("removed filter: %v", got)
		}
		c.json("GET", "/api/v1/assets?show=everything", nil, 422)
		c.json("POST", path(two, "/restore"), map[string]any{}, 200)
		if h := c.json("GET", path(two, "/history"), nil, 200); len(h["changes"].([]any)) != 3 {
			t.Fatalf("history after delete and restore: %v", h["changes"])
		}

		s := c.json("POST", "/api/v1/inventory-schedules", map[string]any{"name": "Daily", "recurrence": "daily", "time": "08:00"}, 201)
		sp := fmt.Sprintf("/api/v1/inventory-schedules/%d", int64(s["id"].(float64)))
		if got := c.json("GET", sp, nil, 200); got["time"] != "08:00" {
			t.Fatalf("get schedule: %v", got)
		}
		c.json("PUT", sp, map[string]any{"name": "Daily", "recurrence": "daily", "time": "8am"}, 422)
		if got := c.json("PUT", sp, map[string]any{"name": "Weekdays", "recurrence": "weekly", "time": "07:45", "weekdays": []int{1, 2, 3, 4, 5}}, 200); got["spec"] != "45 7 * * 1,2,3,4,5" {
			t.Fatalf("replace schedule: %v", got)
		}
		c.json("DELETE", sp, nil, 204)
		c.json("GET", sp, nil, 404)
		if got := c.json("GET", "/api/v1/inventory-sessions", nil, 200); got["count"].(float64) != 1 {
			t.Fatalf("the session the schedule created is gone: %v", got)
		}
	})
}

// TestSessionItemsPagesAPI walks a session's list in keyset pages.
func TestSessionItemsPagesAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		key, err := f.Auth.CreateAPIKey(f.Ctx, "auditor tool", actor.Admin)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		c := client{t: t, url: srv.URL, key: key.Secret}
		for i := 0; i < 25; i++ {
			c.json("POST", "/api/v1/assets", map[string]any{"tag": fmt.Sprintf("P-%02d", i), "name": "Printer"}, 201)
		}
		s := c.json("POST", "/api/v1/inventory-sessions", map[string]any{"name": "Printers"}, 201)
		base := fmt.Sprintf("/api/v1/inventory-sessions/%d", int64(s["id"].(float64)))
		c.json("POST", base+"/start", nil, 200)
		c.json("POST", base+"/scans", map[string]any{"code": "P-07"}, 201)
		if all := c.json("GET", base+"/items", nil, 200); all["count"].(float64) != 25 {
			t.Fatalf("whole list: %v", all["count"])
		}
		seen, path := 0, base+"/items?limit=10"
		for pages := 0; path != ""; pages++ {
			page := c.json("GET", path, nil, 200)
			seen += int(page["count"].(float64))
			path = ""
			if next, ok := page["next_after"].(float64); ok {
				path = fmt.Sprintf("%s/items?limit=10&after=%d", base, int64(next))
			}
			if pages > 3 {
				t.Fatal("too many pages")
			}
		}
		if seen != 25 {
			t.Fatalf("paged rows %d", seen)
		}
		if got := c.json("GET", base+"/items?state=scanned", nil, 200); got["count"].(float64) != 1 {
			t.Fatalf("scanned: %v", got)
		}
		c.json("GET", base+"/items?state=lost", nil, 422)
		c.json("GET", base+"/items?limit=5000", nil, 422)
		c.json("GET", base+"/items?after=abc", nil, 400)
	})
}

// TestLabelSheetBeyondTwoThousand prints 2,500 labels in one PDF (the
// sheet streams, so the old 2,000 cap is gone) and refuses a deleted
// asset's label.
func TestLabelSheetBeyondTwoThousand(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		key, err := f.Auth.CreateAPIKey(f.Ctx, "printer", actor.Admin)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		c := client{t: t, url: srv.URL, key: key.Secret}
		var csv strings.Builder
		csv.WriteString("tag,name\n")
		for i := 0; i < 2500; i++ {
			fmt.Fprintf(&csv, "LBL-%04d,Stool %d\n", i, i)
		}
		if res, out := c.do("POST", "/api/v1/assets/import", "text/csv", []byte(csv.String())); res.StatusCode != 201 {
			t.Fatalf("import: %d %s", res.StatusCode, out)
		}
		res, out := c.do("GET", "/api/v1/assets/labels.pdf?paper=avery-l7160", "", nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasSuffix(bytes.TrimSpace(out), []byte("%%EOF")) {
			t.Fatalf("sheet: %d %s %.200s", res.StatusCode, res.Header.Get("Content-Type"), out)
		}
		if pages := bytes.Count(out, []byte("/Type /Page /Parent")); pages != (2500+20)/21 {
			t.Fatalf("%d pages for 2,500 labels", pages)
		}
		one := c.json("GET", "/api/v1/assets?q=LBL-0007", nil, 200)["data"].([]any)[0].(map[string]any)
		c.json("DELETE", fmt.Sprintf("/api/v1/assets/%d", int64(one["id"].(float64))), nil, 200)
		if res, _ := c.do("GET", fmt.Sprintf("/api/v1/assets/labels.pdf?id=%d", int64(one["id"].(float64))), "", nil); res.StatusCode != 409 {
			t.Fatalf("label of a deleted asset: %d", res.StatusCode)
		}
	})
}
