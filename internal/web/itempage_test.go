package web_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// itemWithTwoRecords gives OIL-5 12.50 l at WH1/A1 and 3 l of lot B at WH1/A2.
func itemWithTwoRecords(t *testing.T, f *storetest.Fixture) (it inventory.Item, a1, b inventory.Record) {
	t.Helper()
	it = seedInventory(t, f)
	res, err := inventory.Receive(f.Ctx, f.DB, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
		LocationRef: inventory.LocationRef{Location: "WH1/A1"}, Quantity: "12.5"})
	if err != nil {
		t.Fatal(err)
	}
	a1 = res.Records[0]
	if res, err = inventory.Receive(f.Ctx, f.DB, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
		LocationRef: inventory.LocationRef{Location: "WH1/A2"}, Lot: "B", Quantity: "3"}); err != nil {
		t.Fatal(err)
	}
	return it, a1, res.Records[0]
}

// postNoFollow posts a form and returns the status and the redirect's
// target or the page.
func (b browser) postNoFollow(path string, form url.Values) (int, string) {
	b.t.Helper()
	if form.Get("csrf_token") == "" {
		_, page := b.get("/inventory")
		if m := csrfPattern.FindStringSubmatch(page); m != nil {
			form.Set("csrf_token", m[1])
		}
	}
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	body := make([]byte, 0)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		body = append(body, buf[:n]...)
		if err != nil {
			break
		}
	}
	return resp.StatusCode, string(body)
}

// TestItemPageActions: the item page offers one action bar whose actions
// are dialogs and, as links, pages of their own; started from a record's
// row they preselect it; a refused form comes back where it was sent from,
// with the error summary and the message next to its field, and nothing
// changed; someone who may not move stock sees no actions.
func TestItemPageActions(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		it, a1, lotB := itemWithTwoRecords(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		b := login(t, srv.URL, f)
		item := "/inventory/items/" + itoa(it.ID)

		status, body := b.get(item)
		if status != 200 {
			t.Fatalf("item page: %d", status)
		}
		for _, want := range []string{`id="item-actions"`, `href="` + item + `/receive" data-dialog="dlg-receive"`, `<dialog id="dlg-issue"`,
			`href="` + item + `/issue?record=` + itoa(lotB.ID) + `" data-dialog="dlg-issue" data-record="` + itoa(lotB.ID) + `"`,
			`<dialog id="dlg-merge"`, `name="via" value="dialog"`, "Receipt", "Record created first"} {
			if !strings.Contains(body, want) {
				t.Errorf("item page lacks %s", want)
			}
		}
		if n := strings.Count(body, "<form method=\"post\""); n != 10+1 { // ten actions and Log out
			t.Errorf("%d forms on the item page, want one per action", n)
		}
		if strings.Contains(body, "data-open") {
			t.Error("a dialog opens by itself on a fresh page")
		}

		// Each action has its own page with the one form, no dialog.
		for _, slug := range []string{"receive", "issue", "move", "split", "correct", "count", "merge", "lot", "new-record", "delete"} {
			status, body := b.get(item + "/" + slug)
			if status != 200 || strings.Contains(body, "<dialog") || strings.Count(body, `class="action-form"`) != 1 {
				t.Errorf("GET %s/%s: %d", item, slug, status)
			}
		}
		if status, _ := b.get(item + "/teleport"); status != 404 {
			t.Errorf("an unknown action: %d", status)
		}
		// Started from a row: the record is preselected.
		_, body = b.get(item + "/issue?record=" + itoa(lotB.ID))
		if !regexp.MustCompile(`<option value="` + itoa(lotB.ID) + `" selected>WH1/A2 · lot B`).MatchString(body) {
			t.Errorf("the row's record is not preselected:\n%s", body)
		}

		// Refused on its own page: summary, message at the field, values kept.
		entries := countRows(t, db, "inventory_log")
		status, body = b.postNoFollow(item+"/issue", url.Values{"record_id": {itoa(a1.ID)}, "quantity": {"100"}, "reference": {"WO-9"}})
		body = html.UnescapeString(body)
		if status != 422 || !strings.Contains(body, "There is a problem") || !strings.Contains(body, `href="#issue-quantity"`) ||
			!regexp.MustCompile(`(?s)class="field has-error"><label for="issue-quantity">.*?<span class="field-error">Only 12.50 l of OIL-5 at WH1/A1`).MatchString(body) ||
			!strings.Contains(body, `value="100"`) || !strings.Contains(body, `value="WO-9"`) || strings.Contains(body, "<dialog") ||
			!strings.Contains(body, `<option value="`+itoa(a1.ID)+`" selected>`) || strings.Contains(body, `role="alert">invalid`) {
			t.Errorf("refused issue on its page: %d\n%s", status, body)
		}
		// Refused from the dialog: the item page, that dialog open with its errors.
		status, body = b.postNoFollow(item+"/correct", url.Values{"via": {"dialog"}, "record_id": {itoa(a1.ID)}, "change": {"-1"}})
		body = html.UnescapeString(body)
		if status != 422 || !strings.Contains(body, `<dialog id="dlg-correct" class="action-dialog" aria-labelledby="correct-title" data-open>`) ||
			!strings.Contains(body, `href="#correct-reason"`) || !strings.Contains(body, "A correction needs a reason") ||
			strings.Count(body, "There is a problem") != 1 || !strings.Contains(body, `id="records"`) {
			t.Errorf("refused correction from its dialog: %d\n%s", status, body)
		}
		if n := countRows(t, db, "inventory_log"); n != entries {
			t.Fatalf("refused forms wrote %d entries", n-entries)
		}

		// Done: back to the item, saying what happened in words.
		for _, tt := range []struct {
			slug string
			form url.Values
			want string
		}{
			{"receive", url.Values{"location": {"WH1/A1"}, "quantity": {"2"}}, "Receipt recorded: WH1/A1 now holds 14.50 l"},
			{"issue", url.Values{"record_id": {itoa(a1.ID)}, "quantity": {"0.5"}}, "Issue recorded: WH1/A1 now holds 14.00 l"},
			{"count", url.Values{"record_id": {itoa(lotB.ID)}, "counted": {"2"}}, "Count recorded: WH1/A2 lot B now holds 2.00 l"},
			{"correct", url.Values{"record_id": {itoa(a1.ID)}, "change": {"-1"}, "reason": {"leak"}}, "Correction recorded: WH1/A1 now holds 13.00 l"},
			{"move", url.Values{"record_id": {itoa(lotB.ID)}, "to_location": {"WH1/A1"}, "quantity": {"1"}}, "Move recorded"},
			{"split", url.Values{"record_id": {itoa(a1.ID)}, "new_lot": {"C"}, "quantity": {"1"}}, "Split recorded"},
			{"lot", url.Values{"record_id": {itoa(lotB.ID)}, "lot": {"B2"}}, "Lot changed: WH1/A2 lot B is now lot B2"},
			{"new-record", url.Values{"location": {"WH1/A2"}, "lot": {"D"}, "quantity": {"0"}}, "Record created: WH1/A2 lot D with 0.00 l"},
			{"delete", url.Values{"record_id": {itoa(lotB.ID)}, "reason": {"emptied into A1"}}, "Record deleted: WH1/A2 lot B2"},
		} {
			status, target := b.postNoFollow(item+"/"+tt.slug, tt.form)
			u, _ := url.Parse(target)
			if status != 303 || u.Path != item || u.Query().Get("ok") != tt.want {
				t.Errorf("%s: %d %s, want %q", tt.slug, status, target, tt.want)
			}
		}
		if err := inventory.CheckInvariant(f.Ctx, db); err != nil {
			t.Fatal(err)
		}

		// Who may only look sees the stock, no actions.
		if _, err := f.Auth.CreateUser(f.Ctx, auth.NewUser{Email: "aud@example.com", Name: "Ada Audit", Role: actor.Auditor, Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
		aud := loginAs(t, srv.URL, "aud@example.com", "correct horse battery")
		if status, body := aud.get(item); status != 200 || strings.Contains(body, "item-actions") || strings.Contains(body, "<dialog") || strings.Contains(body, "row-menu") {
			t.Errorf("an auditor's item page: %d", status)
		}
		if status, _ := aud.get(item + "/issue"); status != 403 {
			t.Errorf("an auditor's issue page: %d", status)
		}
	})
}

// TestStockPageErrorsStayWithTheirForm: an unknown SKU in Receive is said
// in plain words, in the summary and at Receive's SKU field only, not under
// New item's.
func TestStockPageErrorsStayWithTheirForm(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		seedInventory(t, f)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		b := login(t, srv.URL, f)
		status, body := b.post("/inventory/movements", url.Values{"kind": {"receipt"}, "sku": {"NOPE-1"}, "location": {"WH1/A1"}, "quantity": {"1"}})
		if status != 422 || !strings.Contains(body, `<a href="#receipt-sku">There is no item with SKU NOPE-1</a>`) ||
			strings.Count(body, `<span class="field-error">There is no item with SKU NOPE-1</span>`) != 1 ||
			!regexp.MustCompile(`id="receipt-sku"[^>]*value="NOPE-1">\s*<span class="field-error">`).MatchString(body) ||
			strings.Contains(body, "invalid sku") || strings.Contains(body, "unknown SKU") {
			t.Errorf("unknown SKU in Receive: %d\n%s", status, body)
		}
		status, body = b.post("/inventory/items", url.Values{"sku": {"OIL-5"}, "name": {"Again"}, "kind": {"material"}, "unit": {"l"}, "scale": {"2"}})
		if status == 200 || !strings.Contains(body, `href="#item-sku"`) || strings.Contains(body, `id="receipt-sku" name="sku" required list="skus" value="OIL-5"`) {
			t.Errorf("a SKU taken in New item: %d\n%s", status, body)
		}
	})
}

// TestStationOffersLots: issuing without a lot where the bin holds the
// item in lots says so and offers each lot, whose button issues from it.
func TestStationOffersLots(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		st, _ := seedStation(t, f)
		for _, lot := range []struct{ lot, qty string }{{"L1", "300"}, {"L2", "275"}} {
			if _, err := inventory.Receive(f.Ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M6"},
				LocationRef: inventory.LocationRef{Location: "WH1/A1"}, Lot: lot.lot, Quantity: inventory.DecimalText(lot.qty)}); err != nil {
				t.Fatal(err)
			}
		}
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		defer srv.Close()
		s := newStationClient(t, srv.URL)
		s.post("/station/sign-in", url.Values{"token": {st.Token}})
		status, body := s.post("/station/scan", url.Values{"mode": {"issue"}, "sku": {"BOLT-M6"}, "quantity": {"5"}})
		if status != 422 || !strings.Contains(body, "BOLT-M6 at WH1/A1 is kept in lots: L1 (300 pcs), L2 (275 pcs). Say which lot") ||
			strings.Contains(body, "No stock") || !strings.Contains(body, `id="lots"`) ||
			!regexp.MustCompile(`(?s)name="lot" value="L2"><input type="hidden" name="quantity" value="5">.*?Issue 5 from lot <span class="token">L2</span> <small>275 pcs there</small>`).MatchString(body) {
			t.Fatalf("issue without a lot: %d %s", status, body)
		}
		// The lot's button repeats the scan with it.
		status, body = s.post("/station/scan", url.Values{"mode": {"issue"}, "sku": {"BOLT-M6"}, "lot": {"L2"}, "quantity": {"5"}})
		if status != 200 || !strings.Contains(body, "Issued BOLT-M6: -5 pcs, new level 270 pcs at WH1/A1 lot L2") || strings.Contains(body, `id="lots"`) {
			t.Fatalf("issue from lot L2: %d %s", status, alert(body))
		}
		status, body = s.post("/station/scan", url.Values{"mode": {"issue"}, "sku": {"BOLT-M6"}, "lot": {"L9"}, "quantity": {"5"}})
		if status != 422 || !strings.Contains(body, "BOLT-M6 has no lot L9 at WH1/A1; it is kept there in lots: L1 (300 pcs), L2 (270 pcs)") {
			t.Fatalf("issue from a lot not there: %d %s", status, alert(body))
		}
	})
}

func countRows(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	return count(t, db, "SELECT COUNT(*) FROM "+table)
}
