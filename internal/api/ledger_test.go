package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// ledgerEnv is a server, an API key per role and a sealer made here, over
// a workspace with an item received once.
type ledgerEnv struct {
	t      *testing.T
	f      *storetest.Fixture
	db     *store.DB
	url    string
	keys   map[actor.Role]string
	sealer *ledger.Sealer
}

func newLedgerEnv(t *testing.T, db *store.DB) *ledgerEnv {
	t.Helper()
	f := storetest.NewFixture(t, db)
	e := &ledgerEnv{t: t, f: f, db: db, keys: map[actor.Role]string{}}
	for _, role := range actor.Roles() {
		k, err := f.Auth.CreateAPIKey(f.Ctx, string(role)+"-key", role)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[role] = k.Secret
	}
	key, err := ledger.LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "ledger.key"), "stocktrail-test")
	if err != nil {
		t.Fatal(err)
	}
	e.sealer = &ledger.Sealer{DB: db, Key: key}
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	two := 2
	if _, err := inventory.CreateItem(f.Ctx, db, inventory.ItemInput{SKU: "OIL-5", Name: "Engine oil", Kind: inventory.Material, Unit: "l", Scale: &two}); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"}); err != nil {
		t.Fatal(err)
	}
	e.receive("4.5")
	return e
}

func (e *ledgerEnv) receive(qty string) inventory.Result {
	e.t.Helper()
	res, err := inventory.Receive(e.f.Ctx, e.db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
		LocationRef: inventory.LocationRef{Location: "WH1"}, Quantity: inventory.DecimalText(qty)})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *ledgerEnv) seal() {
	e.t.Helper()
	if _, err := e.sealer.Seal(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// get sends GET path as role (none when empty) with the given Accept
// header and returns the answer.
func (e *ledgerEnv) get(role actor.Role, path, accept string) (int, http.Header, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url+path, nil)
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[role])
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body
}

// getJSON sends GET path as role, wants status 200 and decodes into out.
func (e *ledgerEnv) getJSON(role actor.Role, path string, out any) {
	e.t.Helper()
	code, h, body := e.get(role, path, "")
	if code != 200 || h.Get("Content-Type") != "application/json" {
		e.t.Fatalf("GET %s as %s: %d %s\n%s", path, role, code, h.Get("Content-Type"), body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		e.t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

func TestLedgerAPI(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newLedgerEnv(t, db)
		entryID := e.receive("1").Entries[0].ID

		// Nothing is sealed and no key is known yet.
		if code, _, body := e.get(actor.Auditor, "/api/v1/ledger/checkpoint", ""); code != 404 {
			t.Errorf("checkpoint before sealing: %d %s", code, body)
		}
		if code, _, body := e.get(actor.Auditor, "/api/v1/ledger/public-key", "text/plain"); code != 404 {
			t.Errorf("key before registering: %d %s", code, body)
		}
		if err := e.sealer.Register(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.seal()
		var first ledger.Checkpoint
		e.getJSON(actor.Operator, "/api/v1/ledger/checkpoint", &first)

		// The verifier key as text is one line, the one that signs.
		code, h, keyText := e.get(actor.Operator, "/api/v1/ledger/public-key", "text/plain")
		if code != 200 || h.Get("Content-Type") != "text/plain; charset=utf-8" || string(keyText) != e.sealer.Key.Verifier+"\n" {
			t.Fatalf("public key as text: %d %v %q", code, h, keyText)
		}
		verifier, err := note.NewVerifier(strings.TrimSpace(string(keyText)))
		if err != nil {
			t.Fatal(err)
		}
		var keys struct {
			Count int                  `json:"count"`
			Data  []ledger.VerifierKey `json:"data"`
		}
		e.getJSON(actor.Auditor, "/api/v1/ledger/public-key", &keys)
		if keys.Count != 1 || keys.Data[0].Key != e.sealer.Key.Verifier || !keys.Data[0].Current || keys.Data[0].Name != "stocktrail-test" {
			t.Fatalf("public keys as JSON: %+v", keys)
		}

		// More entries, sealed into a second checkpoint.
		e.receive("2")
		e.seal()
		var cp ledger.Checkpoint
		e.getJSON(actor.Auditor, "/api/v1/ledger/checkpoint", &cp)
		signed, err := note.Open([]byte(cp.Note), note.VerifierList(verifier))
		if err != nil {
			t.Fatalf("checkpoint does not verify with the served key: %v\n%s", err, cp.Note)
		}
		body, err := ledger.ParseCheckpoint(signed.Text)
		if err != nil || body.Size != cp.Size || body.Root != cp.RootHash || cp.Size <= first.Size || cp.SignedAt.IsZero() {
			t.Fatalf("checkpoint %+v (%v), body %+v", cp, err, body)
		}
		code, h, text := e.get(actor.Auditor, "/api/v1/ledger/checkpoint", "text/plain")
		if code != 200 || h.Get("Content-Type") != "text/plain; charset=utf-8" || string(text) != cp.Note {
			t.Fatalf("checkpoint as text: %d %v\n%s", code, h, text)
		}

		// An inclusion proof checks against the checkpoint it carries.
		var p ledger.InclusionProof
		e.getJSON(actor.Operator, "/api/v1/ledger/proof?log=inventory_log&id="+itoa(entryID), &p)
		if p.Log != ledger.InventoryLog || p.EntryID != entryID || p.Checkpoint.Note != cp.Note || ledger.LeafHash([]byte(p.Entry)) != p.LeafHash ||
			!strings.Contains(p.Entry, `"id":`+itoa(entryID)+`,`) {
			t.Fatalf("proof %+v", p)
		}
		if err := tlog.CheckRecord(p.Proof, cp.Size, cp.RootHash, p.Sequence, p.LeafHash); err != nil {
			t.Fatalf("inclusion proof does not check: %v", err)
		}
		// An activity event's proof is for whoever reads the activity log.
		events := countRows(t, db, `SELECT MAX(entry_id) FROM ledger_leaves WHERE log = 'activity_events'`)
		var ap ledger.InclusionProof
		e.getJSON(actor.Auditor, "/api/v1/ledger/proof?log=activity_events&id="+itoa(int64(events)), &ap)
		if err := tlog.CheckRecord(ap.Proof, ap.Checkpoint.Size, ap.Checkpoint.RootHash, ap.Sequence, ap.LeafHash); err != nil || ap.Log != ledger.ActivityEvents {
			t.Fatalf("activity proof %+v: %v", ap, err)
		}
		if code, _, body := e.get(actor.Operator, "/api/v1/ledger/proof?log=activity_events&id="+itoa(int64(events)), ""); code != 403 {
			t.Errorf("operator read an activity event's proof: %d %s", code, body)
		}

		// The same proof as a file to save.
		code, h, file := e.get(actor.Auditor, "/api/v1/ledger/proof?log=inventory_log&download=1&id="+itoa(entryID), "")
		var saved ledger.InclusionProof
		if code != 200 || h.Get("Content-Disposition") != `attachment; filename="proof-inventory_log-`+itoa(entryID)+`.json"` ||
			h.Get("Content-Type") != "application/json" || json.Unmarshal(file, &saved) != nil || saved.LeafHash != p.LeafHash {
			t.Fatalf("proof download: %d %v\n%s", code, h, file)
		}

		// Consistency between the two checkpoints, with and without new.
		for _, path := range []string{"/api/v1/ledger/consistency?old=" + itoa(first.Size), "/api/v1/ledger/consistency?old=" + itoa(first.Size) + "&new=" + itoa(cp.Size)} {
			var c ledger.ConsistencyProof
			e.getJSON(actor.Operator, path, &c)
			if c.Old != first.Size || c.New != cp.Size || c.OldRoot != first.RootHash || c.NewRoot != cp.RootHash {
				t.Fatalf("%s: %+v", path, c)
			}
			if err := tlog.CheckTree(c.Proof, cp.Size, cp.RootHash, first.Size, first.RootHash); err != nil {
				t.Fatalf("%s: consistency proof does not check: %v", path, err)
			}
		}

		// The change log shows each sealed entry's sequence number, and none
		// for an entry written since.
		unsealed := map[int64]bool{}
		for _, entry := range e.receive("3").Entries {
			unsealed[entry.ID] = true
		}
		var page struct {
			Data []map[string]any `json:"data"`
		}
		e.getJSON(actor.Operator, "/api/v1/inventory/log", &page)
		seen := 0
		for _, entry := range page.Data {
			id := int64(entry["id"].(float64))
			seq, sealed := entry["sequence"]
			switch {
			case unsealed[id] && sealed:
				t.Errorf("unsealed entry %d has sequence %v", id, seq)
			case id == entryID && (!sealed || int64(seq.(float64)) != p.Sequence):
				t.Errorf("entry %d: sequence %v, want %d", id, seq, p.Sequence)
			case !unsealed[id] && !sealed:
				t.Errorf("sealed entry %d has no sequence", id)
			}
			seen++
		}
		if seen < 3 {
			t.Errorf("change log: %v", page.Data)
		}
		itemID := countRows(t, db, `SELECT MAX(id) FROM items`)
		var history struct {
			Data []map[string]any `json:"data"`
		}
		e.getJSON(actor.Operator, "/api/v1/items/"+itoa(int64(itemID))+"/history", &history)
		if len(history.Data) == 0 || history.Data[len(history.Data)-1]["sequence"] == nil {
			t.Errorf("item history without sequence numbers: %v", history.Data)
		}
	})
}

func TestLedgerAPIBadInput(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newLedgerEnv(t, db)
		if err := e.sealer.Register(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.seal()
		unsealed := e.receive("1").Entries[0].ID
		var cp ledger.Checkpoint
		e.getJSON(actor.Admin, "/api/v1/ledger/checkpoint", &cp)
		for _, c := range []struct {
			role   actor.Role
			path   string
			status int
			field  string // named in the problem's errors
		}{
			{actor.Admin, "/api/v1/ledger/proof?id=1", 422, "log"},
			{actor.Admin, "/api/v1/ledger/proof?log=orders&id=1", 422, "log"},
			{actor.Admin, "/api/v1/ledger/proof?log=inventory_log", 422, "id"},
			{actor.Admin, "/api/v1/ledger/proof?log=inventory_log&id=abc", 422, "id"},
			{actor.Admin, "/api/v1/ledger/proof?log=inventory_log&id=-3", 422, "id"},
			{actor.Admin, "/api/v1/ledger/proof?log=inventory_log&id=0", 422, "id"},
			{actor.Admin, "/api/v1/ledger/proof?log=inventory_log&id=1&download=yes", 400, "download"},
			{actor.Admin, "/api/v1/ledger/proof?log=inventory_log&id=987654321", 404, ""},
			{actor.Admin, "/api/v1/ledger/proof?log=inventory_log&id=" + itoa(unsealed), 409, ""},
			{actor.Admin, "/api/v1/ledger/proof?log=inventory_log&download=1&id=" + itoa(unsealed), 409, ""},
			{actor.Admin, "/api/v1/ledger/consistency", 422, "old"},
			{actor.Admin, "/api/v1/ledger/consistency?old=abc", 400, "old"},
			{actor.Admin, "/api/v1/ledger/consistency?old=1&new=-1", 400, "new"},
			{actor.Admin, "/api/v1/ledger/consistency?old=" + itoa(cp.Size+1), 422, "old"},
			{actor.Admin, "/api/v1/ledger/consistency?old=1&new=" + itoa(cp.Size+100), 422, "new"},
			{"", "/api/v1/ledger/checkpoint", 401, ""},
			{"", "/api/v1/ledger/public-key", 401, ""},
			{"", "/api/v1/ledger/proof?log=inventory_log&id=1", 401, ""},
		} {
			code, h, body := e.get(c.role, c.path, "")
			var problem api.Problem
			err := json.Unmarshal(body, &problem)
			if code != c.status || err != nil || problem.Status != c.status || h.Get("Content-Type") != "application/problem+json" ||
				h.Get("Content-Disposition") != "" || (c.field != "" && problem.Errors[c.field] == "") {
				t.Errorf("%q %s: %d %v %s", c.role, c.path, code, h, body)
			}
		}
	})
}

// The answer is JSON unless the client prefers text/plain.
func TestLedgerAPIContentNegotiation(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	e := newLedgerEnv(t, db)
	if err := e.sealer.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.seal()
	for accept, text := range map[string]bool{
		"":                                       false,
		"*/*":                                    false,
		"application/json":                       false,
		"text/plain":                             true,
		"text/plain; charset=utf-8":              true,
		"text/plain, */*;q=0.8":                  true,
		"application/json, text/plain;q=0.5":     false,
		"text/plain;q=0.5, application/json":     false,
		"text/plain, application/json;q=0.9":     true,
		"text/html, application/xhtml+xml, */*":  false,
		"text/plain;q=0, application/json;q=0.1": false,
		"text/plain;q=bogus":                     false,
	} {
		for _, path := range []string{"/api/v1/ledger/checkpoint", "/api/v1/ledger/public-key"} {
			code, h, body := e.get(actor.Auditor, path, accept)
			got := h.Get("Content-Type")
			want := "application/json"
			if text {
				want = "text/plain; charset=utf-8"
			}
			if code != 200 || got != want {
				t.Errorf("%s with Accept %q: %d %s\n%s", path, accept, code, got, body)
			}
		}
	}
}

func TestOpenAPIDescribesLedger(t *testing.T) {
	raw, err := api.OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/ledger/checkpoint", "/api/v1/ledger/public-key", "/api/v1/ledger/proof", "/api/v1/ledger/consistency"} {
		if doc.Paths[path]["get"] == nil {
			t.Errorf("OpenAPI lacks GET %s", path)
		}
	}
	if doc.Components.Schemas["LogEntry"].Properties["sequence"] == nil {
		t.Error("LogEntry lacks sequence")
	}
	for _, s := range []string{"LedgerCheckpoint", "LedgerVerifierKey", "LedgerInclusionProof", "LedgerConsistencyProof"} {
		if len(doc.Components.Schemas[s].Properties) == 0 {
			t.Errorf("OpenAPI lacks schema %s", s)
		}
	}
}

// TestLedgerBundleDownload: the bundle downloads as a file, verifies offline
// with the served key, is recorded as an export, and a bad log is refused
// before anything is sent.
func TestLedgerBundleDownload(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newLedgerEnv(t, db)
		e.receive("2")
		e.seal()
		status, h, body := e.get(actor.Admin, "/api/v1/ledger/bundle?log=orders", "")
		if status != 422 || h.Get("Content-Disposition") != "" {
			t.Fatalf("bad log: %d %v %s", status, h, body)
		}
		for _, log := range []string{"all", "inventory_log", "activity_events"} {
			status, h, body := e.get(actor.Admin, "/api/v1/ledger/bundle?log="+log, "")
			if status != 200 || !strings.Contains(h.Get("Content-Disposition"), "ledger-bundle-"+log) {
				t.Fatalf("%s: %d %v %s", log, status, h, body)
			}
			rep, err := ledger.VerifyBundle(bytes.NewReader(body), []string{e.sealer.Key.Verifier})
			if err != nil || rep.Entries == 0 {
				t.Fatalf("%s bundle does not verify: %+v %v", log, rep, err)
			}
		}
		if status, _, _ := e.get(actor.Operator, "/api/v1/ledger/bundle?log=activity_events", ""); status != 403 {
			t.Fatalf("an operator took the activity log out: %d", status)
		}
		events, err := activity.List(e.f.Ctx, db, activity.Filter{Action: activity.Export, EntityType: "ledger", Limit: 10})
		if err != nil || len(events.Events) != 3 {
			t.Fatalf("want 3 export events, got %d (%v)", len(events.Events), err)
		}
	})
}
