package web_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func receive(t *testing.T, f *storetest.Fixture, qty inventory.DecimalText) inventory.Result {
	t.Helper()
	res, err := inventory.Receive(f.Ctx, f.DB, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
		LocationRef: inventory.LocationRef{Location: "WH1/A1"}, Quantity: qty})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var sealedPattern = regexp.MustCompile(`#(\d+) sealed · <a href="(/api/v1/ledger/proof\?log=(\w+)&amp;id=(\d+)&amp;download=1)"`)

func TestLedgerPage(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		item := seedInventory(t, f)
		f.User(t, "audrey@example.com", actor.Auditor)
		f.User(t, "mona@example.com", actor.Manager)
		sealer := ledgertest.NewSealer(t, db)
		firstKey := sealer.Key.Verifier
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Ledger: sealer}))
		t.Cleanup(srv.Close)
		admin := login(t, srv.URL, f)
		auditor := loginAs(t, srv.URL, "audrey@example.com", testPassword)
		manager := loginAs(t, srv.URL, "mona@example.com", testPassword)

		// Before the first seal: the key, no checkpoint, entries waiting.
		status, page := auditor.get("/settings/ledger")
		page = html.UnescapeString(page)
		if status != 200 || !strings.Contains(page, firstKey) || !strings.Contains(page, "Nothing has been sealed in this workspace yet") ||
			!strings.Contains(page, "wait to be sealed; the oldest has waited") || strings.Contains(page, `id="rotate"`) {
			t.Fatalf("ledger page before sealing: %d\n%s", status, page)
		}
		if !strings.Contains(page, `href="/settings/ledger" aria-current="page">Ledger</a>`) {
			t.Errorf("the settings nav lacks the current Ledger tab:\n%s", page)
		}

		receive(t, f, "12.5")
		ledgertest.SealAll(t, sealer)
		cp, err := ledger.LatestCheckpoint(f.Ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		status, page = auditor.get("/settings/ledger")
		page = html.UnescapeString(page)
		if status != 200 || !strings.Contains(page, `<dd id="checkpoint-size">`+itoa(cp.Size)+`</dd>`) ||
			!strings.Contains(page, cp.Note) || !strings.Contains(page, "All entries are sealed.") ||
			!strings.Contains(page, cp.SignedAt.UTC().Format("2006-01-02 15:04:05")) || strings.Contains(page, "Last verification") {
			t.Fatalf("ledger page after sealing: %d\n%s", status, page)
		}
		// The bundle links download what verifies offline.
		for _, id := range []string{"bundle-all", "bundle-inventory", "bundle-activity"} {
			m := regexp.MustCompile(`href="([^"]+)" download id="` + id + `"`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no %s link", id)
			}
			status, body := auditor.get(html.UnescapeString(m[1]))
			if status != 200 {
				t.Fatalf("%s: %d %s", id, status, body)
			}
			if rep, err := ledger.VerifyBundle(strings.NewReader(body), []string{firstKey}); err != nil || rep.Entries == 0 {
				t.Fatalf("%s does not verify: %+v %v", id, rep, err)
			}
		}
		if status, _ := manager.get("/settings/ledger"); status != 403 {
			t.Errorf("a manager saw the ledger page: %d", status)
		}
		if _, nav := manager.get("/settings"); strings.Contains(nav, "/settings/ledger") {
			t.Error("a manager is offered the Ledger tab")
		}

		// The change log and the activity log show each sealed entry's
		// sequence number with a link to download its proof.
		fresh := receive(t, f, "1").Entries[0].ID
		_, logPage := admin.get("/inventory/log")
		matches := sealedPattern.FindAllStringSubmatch(logPage, -1)
		if len(matches) == 0 || strings.Contains(logPage, "&amp;id="+itoa(fresh)+"&amp;download=1") {
			t.Fatalf("change log sequence numbers (fresh entry %d unsealed):\n%s", fresh, logPage)
		}
		proofPath := html.UnescapeString(matches[0][2])
		res, err := admin.c.Get(srv.URL + proofPath)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var p ledger.InclusionProof
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="proof-inventory_log-`) ||
			json.Unmarshal(body, &p) != nil || itoa(p.Sequence) != matches[0][1] || matches[0][3] != "inventory_log" {
			t.Fatalf("proof download %s: %d %v\n%s", proofPath, res.StatusCode, res.Header, body)
		}
		if err := tlog.CheckRecord(p.Proof, p.Checkpoint.Size, p.Checkpoint.RootHash, p.Sequence, p.LeafHash); err != nil {
			t.Errorf("downloaded proof does not check: %v", err)
		}
		if _, itemPage := admin.get("/inventory/items/" + itoa(item.ID)); !sealedPattern.MatchString(itemPage) {
			t.Errorf("item page without sequence numbers:\n%s", itemPage)
		}
		_, activityPage := auditor.get("/activity")
		if m := sealedPattern.FindStringSubmatch(activityPage); m == nil || m[3] != "activity_events" {
			t.Errorf("activity log without sequence numbers:\n%s", activityPage)
		}

		// Rotation: admins only, after a confirmation, with CSRF.
		if status, _ := auditor.get("/settings/ledger/rotate"); status != 403 {
			t.Errorf("auditor reached the rotation: %d", status)
		}
		if status, _ := auditor.post("/settings/ledger/rotate", url.Values{"confirm": {"rotate"}}); status != 403 {
			t.Errorf("auditor rotated: %d", status)
		}
		_, page = admin.get("/settings/ledger")
		if !strings.Contains(page, `href="/settings/ledger/rotate" id="rotate"`) {
			t.Fatalf("no rotation offered to the admin:\n%s", page)
		}
		status, page = admin.get("/settings/ledger/rotate")
		if status != 200 || !strings.Contains(page, "Rotate the signing key?") || !strings.Contains(page, `name="confirm" value="rotate"`) {
			t.Fatalf("confirmation: %d\n%s", status, page)
		}
		if status, page := admin.post("/settings/ledger/rotate", url.Values{}); status != 422 || sealer.Key.Verifier != firstKey {
			t.Errorf("rotation without confirmation: %d\n%s", status, page)
		}
		if status, _ := admin.post("/settings/ledger/rotate", url.Values{"confirm": {"rotate"}, "csrf_token": {"forged"}}); status != 403 || sealer.Key.Verifier != firstKey {
			t.Errorf("rotation with a forged CSRF token: %d", status)
		}
		status, page = admin.post("/settings/ledger/rotate", url.Values{"confirm": {"rotate"}})
		page = html.UnescapeString(page)
		newKey := sealer.Key.Verifier
		if status != 200 || newKey == firstKey || !strings.Contains(page, "Key rotated") ||
			!strings.Contains(page, `<pre class="key" id="verifier-key"><code>`+newKey+`</code></pre>`) || !strings.Contains(page, `id="older-keys"`) ||
			!strings.Contains(page, firstKey) {
			t.Fatalf("after rotation: %d\n%s", status, page)
		}
		if b, err := os.ReadFile(sealer.KeyFile); err != nil || !strings.Contains(string(b), newKey) {
			t.Errorf("key file after rotation: %v", err)
		}
		events, err := activity.List(f.Ctx, db, activity.Filter{EntityType: "ledger_keys", Limit: 10})
		if err != nil || len(events.Events) != 1 || events.Events[0].ActorName == "" {
			t.Errorf("rotation events: %+v %v", events.Events, err)
		}
	})
}

// Without a sealer on this node the page says so, shows what the database
// holds and offers no rotation; asking for one anyway is refused.
func TestLedgerPageWithoutSealer(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
		t.Cleanup(srv.Close)
		admin := login(t, srv.URL, f)
		status, page := admin.get("/settings/ledger")
		if status != 200 || !strings.Contains(page, "This server does not seal the ledger") || !strings.Contains(page, "No key has signed a checkpoint yet") ||
			!strings.Contains(page, "Nothing has been sealed in this workspace yet") || strings.Contains(page, `id="rotate"`) {
			t.Fatalf("ledger page without a sealer: %d\n%s", status, page)
		}
		if status, page := admin.get("/settings/ledger/rotate"); status != 409 || !strings.Contains(page, "does not seal the ledger") {
			t.Errorf("rotation page without a sealer: %d\n%s", status, page)
		}
		if status, _ := admin.post("/settings/ledger/rotate", url.Values{"confirm": {"rotate"}}); status != 409 {
			t.Errorf("rotation without a sealer: %d", status)
		}
		// A sealed change log is shown the same without a sealer here.
		seedInventory(t, f)
		receive(t, f, "2")
		ledgertest.SealAll(t, ledgertest.NewSealer(t, db))
		if _, logPage := admin.get("/inventory/log"); !sealedPattern.MatchString(logPage) {
			t.Errorf("change log sealed elsewhere shows no sequence numbers:\n%s", logPage)
		}
	})
}

// A key given by flag or environment is rotated there, not from the page.
func TestLedgerKeyFromFlagIsNotRotatedHere(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	sealer := ledgertest.NewSealer(t, db)
	sealer.KeyFile = ""
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Ledger: sealer}))
	t.Cleanup(srv.Close)
	admin := login(t, srv.URL, f)
	status, page := admin.get("/settings/ledger")
	if status != 200 || strings.Contains(page, `id="rotate"`) || !strings.Contains(page, "rotate it there and restart every node") {
		t.Fatalf("ledger page with a key from a flag: %d\n%s", status, page)
	}
	if status, page := admin.post("/settings/ledger/rotate", url.Values{"confirm": {"rotate"}}); status != 409 || !strings.Contains(page, "flag or environment") {
		t.Errorf("rotation of a key from a flag: %d\n%s", status, page)
	}
}
