package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/popplertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// webEnv is a running server with an admin, an auditor and an operator
// whose role and name were changed (so the log holds a ROLE_CHANGE and an
// UPDATE with before and after values).
type webEnv struct {
	f        *storetest.Fixture
	srv      *httptest.Server
	operator auth.User
}

const testPassword = "correct horse battery"

func newWebEnv(t *testing.T, db *store.DB) *webEnv {
	t.Helper()
	f := storetest.NewFixture(t, db)
	op := f.User(t, "olga@example.com", actor.Operator)
	f.User(t, "audrey@example.com", actor.Auditor)
	role, name := actor.Manager, "Olga Petrova"
	if _, err := f.Auth.UpdateUser(f.Ctx, op.ID, auth.UserChange{Role: &role, Name: &name}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth}))
	t.Cleanup(srv.Close)
	return &webEnv{f: f, srv: srv, operator: op}
}

// client logs in as email and returns a client carrying the session.
func (e *webEnv) client(t *testing.T, email string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	_, page := get(t, c, e.srv.URL+"/login")
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatal("the login page has no form token")
	}
	res, err := c.PostForm(e.srv.URL+"/login", url.Values{"email": {email}, "password": {testPassword}, "csrf_token": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/" {
		t.Fatalf("login as %s ended at %s (%d)", email, res.Request.URL, res.StatusCode)
	}
	return c
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, []byte) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func TestActivityPageAccess(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newWebEnv(t, db)
		for email, want := range map[string]int{"admin@example.com": 200, "audrey@example.com": 200, "olga@example.com": 403} {
			c := e.client(t, email)
			for _, path := range []string{"/activity", "/activity/export.csv", "/activity/export.pdf"} {
				if res, _ := get(t, c, e.srv.URL+path); res.StatusCode != want {
					t.Errorf("%s %s: %d, want %d", email, path, res.StatusCode, want)
				}
			}
		}
		res, body := get(t, e.client(t, "admin@example.com"), e.srv.URL+"/activity?start_date=31.12.2025&action=NOPE")
		if res.StatusCode != 422 || !bytes.Contains(body, []byte("YYYY-MM-DD")) || !bytes.Contains(body, []byte("Unknown action")) {
			t.Errorf("bad filter: %d %s", res.StatusCode, body)
		}
	})
}

func TestActivityPageFiltersAndPaging(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newWebEnv(t, db)
		c := e.client(t, "admin@example.com")
		_, body := get(t, c, e.srv.URL+"/activity?action=ROLE_CHANGE")
		if !bytes.Contains(body, []byte("role of olga@example.com changed from operator to manager")) || bytes.Contains(body, []byte(`class="action">LOGIN<`)) {
			t.Errorf("ROLE_CHANGE filter page:\n%s", body)
		}
		_, body = get(t, c, e.srv.URL+"/activity?q=Petrova")
		if !bytes.Contains(body, []byte("<del>olga@example.com</del> → <ins>Olga Petrova</ins>")) {
			t.Errorf("search page does not show before → after:\n%s", body)
		}
		_, body = get(t, c, e.srv.URL+"/activity?limit=2")
		if !bytes.Contains(body, []byte(`id="older"`)) {
			t.Fatalf("no older link on a 2-row page:\n%s", body)
		}
	})
}

func TestActivityExports(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newWebEnv(t, db)
		c := e.client(t, "audrey@example.com")
		ledgertest.SealAll(t, ledgertest.NewSealer(t, db))
		res, body := get(t, c, e.srv.URL+"/activity/export.csv?table_name=users&entity_id="+strconv.FormatInt(e.operator.ID, 10))
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("csv: %d %v", res.StatusCode, res.Header)
		}
		records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := "ID,Timestamp,Actor kind,Actor ID,Actor,Action,Category,Entity type,Entity ID,Description,Old values,New values,IP address,User agent,Request ID,Reported by,Ledger sequence"
		if got := strings.Join(records[0], ","); got != want {
			t.Errorf("CSV header %q", got)
		}
		// CREATE, ROLE_CHANGE, UPDATE of the operator, newest first.
		if len(records) != 4 || records[1][5] != "UPDATE" || records[2][5] != "ROLE_CHANGE" || records[3][5] != "CREATE" ||
			records[2][10] != `{"role":"operator"}` || records[2][11] != `{"role":"manager"}` {
			t.Errorf("CSV rows %q", records)
		}
		// All three sealed: each shows the ledger's sequence.
		for _, r := range records[1:] {
			id, _ := strconv.ParseInt(r[0], 10, 64)
			seqs, err := ledger.Sequences(e.f.Ctx, db, ledger.ActivityEvents, []int64{id})
			if seq, ok := seqs[id]; err != nil || !ok || r[16] != strconv.FormatInt(seq, 10) {
				t.Errorf("event %d: ledger sequence %q, ledger says %v (%v)", id, r[16], seqs, err)
			}
		}
		res, body = get(t, c, e.srv.URL+"/activity/export.pdf?table_name=users")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(body, []byte("%PDF-")) {
			t.Fatalf("pdf: %d %v %.40q", res.StatusCode, res.Header, body)
		}
		if pdftoppm, ok := popplertest.Lookup(t, "pdftoppm"); ok {
			dir := t.TempDir()
			pdf := filepath.Join(dir, "activity.pdf")
			os.WriteFile(pdf, body, 0o644)
			if out, err := exec.Command(pdftoppm, "-png", "-r", "40", pdf, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
				t.Errorf("pdftoppm: %v %s", err, out)
			}
			if pages, _ := filepath.Glob(filepath.Join(dir, "page*.png")); len(pages) == 0 {
				t.Error("pdftoppm rendered no page")
			}
			// People read the PDF: the user the events are about by name,
			// not as the table and id the CSV keeps for machines.
			if pdftotext, ok := popplertest.Lookup(t, "pdftotext"); ok {
				out, err := exec.Command(pdftotext, "-layout", pdf, "-").CombinedOutput()
				text := string(out)
				if err != nil || !strings.Contains(text, "user Olga Petrova") ||
					strings.Contains(text, "users "+strconv.FormatInt(e.operator.ID, 10)) {
					t.Errorf("PDF does not name the user (%v):\n%s", err, text)
				}
			}
		}
		// Both exports were recorded with their row counts, by the auditor.
		res, body = get(t, e.client(t, "admin@example.com"), e.srv.URL+"/activity/export.csv?action=EXPORT")
		records, _ = csv.NewReader(bytes.NewReader(body)).ReadAll()
		if len(records) != 3 || records[1][4] != "audrey@example.com" || !strings.Contains(records[1][11], `"format":"pdf"`) ||
			!strings.Contains(records[2][11], `"rows":3`) {
			t.Errorf("EXPORT events %q", records)
		}
	})
}

// API keys and stations link to their History and to what they did.
func TestCredentialPagesLinkToActivity(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	e := newWebEnv(t, db)
	k, err := e.f.Auth.CreateAPIKey(e.f.Ctx, "erp", actor.Manager)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client(t, "admin@example.com")
	_, body := get(t, c, e.srv.URL+"/api-keys")
	id := strconv.FormatInt(k.ID, 10)
	for _, want := range []string{`/activity?table_name=api_keys&amp;entity_id=` + id, `/activity?actor_kind=api_key&amp;actor_id=` + id} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("API keys page lacks %s", want)
		}
	}
	res, body := get(t, c, e.srv.URL+"/activity?table_name=api_keys&entity_id="+id)
	if res.StatusCode != 200 || !bytes.Contains(body, []byte("API key erp created")) {
		t.Errorf("key history: %d", res.StatusCode)
	}
}

// recordExportProbe records events with fixed fields and awkward text
// (commas, quotes, line breaks, a leading =, no actor id, a reporter) about
// the table "export_probe", and returns their ids, oldest first. The first
// is sealed into the ledger by sealer, the second not yet.
func recordExportProbe(t *testing.T, db *store.DB, f *storetest.Fixture, sealer *ledger.Sealer) []int64 {
	t.Helper()
	at := time.Date(2026, 3, 1, 9, 30, 15, 123456000, time.UTC)
	events := []activity.Event{
		{WorkspaceID: f.Workspace.ID, OccurredAt: at, ActorKind: "user", ActorID: 42, ActorName: "Zoë, \"Z\" Example",
			Action: activity.Update, Category: activity.Inventory, EntityType: "export_probe", EntityID: "7",
			Old: json.RawMessage(`{"qty":"1.50","note":"a, b"}`), New: json.RawMessage(`{"qty":"2"}`),
			Description: "=SUM(A1)\r\nsecond line", IP: "10.0.0.1", UserAgent: "probe/1", RequestID: "req-1"},
		{WorkspaceID: f.Workspace.ID, OccurredAt: at.Add(time.Second), ActorKind: "system", ActorName: "nightly",
			Action: activity.Create, Category: activity.Audit, EntityType: "export_probe", EntityID: "8",
			Description: "plain", ReportedByKind: "api_key", ReportedByID: 3, ReportedByName: "erp"},
	}
	var ids []int64
	for i, ev := range events {
		err := db.InTx(f.Ctx, func(tx *store.Tx) error {
			id, err := activity.Record(f.Ctx, tx, ev)
			ids = append(ids, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := sealer.Seal(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

// exportProbeCSV is the CSV export of recordExportProbe's events, byte for
// byte, newest first; seq is the first one's ledger sequence.
func exportProbeCSV(ids []int64, seq int64) string {
	return "ID,Timestamp,Actor kind,Actor ID,Actor,Action,Category,Entity type,Entity ID,Description,Old values,New values,IP address,User agent,Request ID,Reported by,Ledger sequence\r\n" +
		fmt.Sprint(ids[1]) + ",2026-03-01T09:30:16.123456Z,system,,nightly,CREATE,audit,export_probe,8,plain,,,,,,api_key 3 erp,\r\n" +
		fmt.Sprint(ids[0]) + ",2026-03-01T09:30:15.123456Z,user,42,\"Zoë, \"\"Z\"\" Example\",UPDATE,inventory,export_probe,7,\"'=SUM(A1)\r\nsecond line\",\"{\"\"qty\"\":\"\"1.50\"\",\"\"note\"\":\"\"a, b\"\"}\",\"{\"\"qty\"\":\"\"2\"\"}\",10.0.0.1,probe/1,req-1,," + fmt.Sprint(seq) + "\r\n"
}

// The CSV export is exact: header, quoting, the formula guard, empty cells.
func TestActivityCSVExportBytes(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newWebEnv(t, db)
		ids := recordExportProbe(t, db, e.f, ledgertest.NewSealer(t, db))
		seqs, err := ledger.Sequences(e.f.Ctx, db, ledger.ActivityEvents, ids)
		if err != nil || len(seqs) != 1 {
			t.Fatalf("sequences %v: %v", seqs, err)
		}
		_, body := get(t, e.client(t, "admin@example.com"), e.srv.URL+"/activity/export.csv?table_name=export_probe")
		if got, want := string(body), exportProbeCSV(ids, seqs[ids[0]]); got != want {
			t.Errorf("CSV export\n got %q\nwant %q", got, want)
		}
	})
}
