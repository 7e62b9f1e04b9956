package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestNotReadyWhenTheLedgerDoesNotVerify: on SQLite, with the log's
// triggers dropped and an entry edited, the server's ledger check fails:
// /readyz answers 503 with the reason, and admins see a banner.
func TestNotReadyWhenTheLedgerDoesNotVerify(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	ctx := context.Background()
	sealer := ledgertest.NewSealer(t, db)
	if _, err := inventory.CreateItem(f.Ctx, db, inventory.ItemInput{SKU: "BOLT", Name: "Bolt", Kind: inventory.Part, Unit: "pcs"}); err != nil {
		t.Fatal(err)
	}
	ledgertest.SealAll(t, sealer)
	monitor := &ledger.Monitor{DB: db}
	h := server.New(server.Config{DB: db, Auth: f.Auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ledger: sealer, LedgerMonitor: monitor})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a := &app{Fixture: f, srv: srv}
	readyz := func() (int, string) {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st := monitor.Check(ctx); !st.OK {
		t.Fatalf("untouched: %+v", st)
	}
	if code, body := readyz(); code != 200 {
		t.Fatalf("readyz on an untouched ledger: %d %s", code, body)
	}
	for _, stmt := range []string{`DROP TRIGGER activity_events_no_update`, `UPDATE activity_events SET actor_name = 'framed'`} {
		if _, err := db.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	monitor.Check(ctx)
	code, body := readyz()
	// Anyone may ask /readyz: it says what is not ready, not the detail.
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "ledger") || strings.Contains(body, "activity_events") {
		t.Fatalf("readyz after tampering: %d %s", code, body)
	}
	br := a.browser(t)
	if r := br.login("admin@example.com", f.AdminPassword); r.status != 303 {
		t.Fatalf("login: %d", r.status)
	}
	page := br.get("/inventory")
	if page.status != 200 || !strings.Contains(string(page.body), "The ledger does not verify") {
		t.Fatalf("no banner for the admin: %d\n%s", page.status, page.body)
	}
}

// TestNotReadyKeepsTheDetailInTheLog: /readyz is public, so a database
// problem is named, and its error (which can name hosts, roles or files)
// goes to the log only.
func TestNotReadyKeepsTheDetailInTheLog(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	var logged strings.Builder
	h := server.New(server.Config{DB: db, Auth: f.Auth, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if _, err := db.Exec(context.Background(), `DELETE FROM goose_db_version WHERE version_id = 2`); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "database") || strings.Contains(string(b), "migrat") {
		t.Fatalf("readyz with a migration missing: %d %s", resp.StatusCode, b)
	}
	if !strings.Contains(logged.String(), "migrations pending") {
		t.Errorf("the detail is not in the log:\n%s", logged.String())
	}
}
