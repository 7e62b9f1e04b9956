package idempotency_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/idempotency"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// harness drives the middleware directly around handlers written for the
// test, acting as the fixture's admin.
type harness struct {
	t      *testing.T
	db     *store.DB
	keeper *idempotency.Keeper
	who    actor.Actor
}

func newHarness(t *testing.T, db *store.DB, cfg idempotency.Config) *harness {
	f := storetest.NewFixture(t, db)
	cfg.DB = db
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return &harness{t: t, db: db, keeper: idempotency.New(cfg),
		who: actor.Actor{WorkspaceID: f.Workspace.ID, Kind: actor.User, ID: f.Admin.ID, Name: f.Admin.Name, Role: actor.Admin}}
}

func (h *harness) serve(handler http.HandlerFunc, key, body string) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest("POST", "/api/v1/things", strings.NewReader(body))
	req.Header.Set(idempotency.Header, key)
	req = req.WithContext(actor.With(req.Context(), h.who))
	rec := httptest.NewRecorder()
	func() {
		defer func() { recover() }() // the server's recovery would answer 500
		h.keeper.Middleware(handler).ServeHTTP(rec, req)
	}()
	return rec
}

// change commits one row under ctx and counts how often it ran.
func (h *harness) change(ctx context.Context, n *int) {
	h.t.Helper()
	if err := h.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE workspaces SET name = name || '+' WHERE id = $1`, h.who.WorkspaceID)
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	*n++
}

func (h *harness) state(key string) string {
	var s string
	if err := h.db.Read().QueryRowContext(context.Background(), `SELECT state FROM idempotency_keys WHERE idem_key = $1`,
		idempotency.StoredKey(key)).Scan(&s); err != nil {
		return "absent"
	}
	return s
}

func (h *harness) lapse(key string) {
	if _, err := h.db.Exec(context.Background(), `UPDATE idempotency_keys SET claimed_at = 0 WHERE idem_key = $1`,
		idempotency.StoredKey(key)); err != nil {
		h.t.Fatal(err)
	}
}

func TestMiddlewareOutcomes(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, idempotency.Config{MaxBodyBytes: 64})
		var runs int

		// A panic before any commit releases the key.
		h.serve(func(w http.ResponseWriter, r *http.Request) { runs++; panic("boom") }, "panic", "{}")
		if s := h.state("panic"); s != "absent" {
			t.Errorf("after a panic the key is %s, want released", s)
		}

		// A client error after a commit is the answer: stored and replayed.
		conflictAfterCommit := func(w http.ResponseWriter, r *http.Request) {
			h.change(r.Context(), &runs)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"status":409}`)
		}
		runs = 0
		h.serve(conflictAfterCommit, "late-409", "{}")
		again := h.serve(conflictAfterCommit, "late-409", "{}")
		if runs != 1 || again.Code != 409 || again.Body.String() != `{"status":409}` || again.Header().Get(idempotency.ReplayedHeader) != "true" {
			t.Errorf("4xx after commit: runs %d, retry %d %s", runs, again.Code, again.Body)
		}

		// A server error after a commit is not replayed as such: once the
		// attempt is gone, the retry hears the change was applied.
		failAfterCommit := func(w http.ResponseWriter, r *http.Request) {
			h.change(r.Context(), &runs)
			http.Error(w, "oops", http.StatusInternalServerError)
		}
		runs = 0
		if first := h.serve(failAfterCommit, "late-500", "{}"); first.Code != 500 {
			t.Fatalf("first: %d", first.Code)
		}
		if s := h.state("late-500"); s != "committed" {
			t.Fatalf("after a 5xx past commit the key is %s, want committed", s)
		}
		h.lapse("late-500")
		again = h.serve(failAfterCommit, "late-500", "{}")
		if runs != 1 || again.Code != 200 || !strings.Contains(again.Body.String(), "already_applied") {
			t.Errorf("5xx after commit: runs %d, retry %d %s", runs, again.Code, again.Body)
		}

		// A success without any transaction is stored all the same, with a
		// sniffed content type when the handler set none.
		runs = 0
		plain := func(w http.ResponseWriter, r *http.Request) { runs++; io.WriteString(w, "hello") }
		h.serve(plain, "plain", "{}")
		again = h.serve(plain, "plain", "{}")
		if runs != 1 || again.Code != 200 || again.Body.String() != "hello" || !strings.HasPrefix(again.Header().Get("Content-Type"), "text/plain") {
			t.Errorf("plain: runs %d, retry %d %q %s", runs, again.Code, again.Header().Get("Content-Type"), again.Body)
		}

		// Bodies are read whole to fingerprint them, so they are capped.
		if big := h.serve(plain, "big", strings.Repeat("x", 65)); big.Code != 413 || h.state("big") != "absent" {
			t.Errorf("oversized body: %d, key %s", big.Code, h.state("big"))
		}
	})
}

// The database keeps neither answers nor request fingerprints readable: a new
// API key's secret appears in the answer, never in the table.
func TestStoredAnswersAreSealed(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.do("POST", "/api/v1/api-keys", e.key.Secret, `{"name":"sealed","role":"operator"}`, "0b8f7c9e-secret")
		if a.status != 201 || !strings.Contains(string(a.body), `"key":"stk_`) {
			t.Fatalf("%d %s", a.status, a.body)
		}
		var idemKey string
		var body []byte
		if err := db.Read().QueryRowContext(context.Background(), `SELECT idem_key, body FROM idempotency_keys`).Scan(&idemKey, &body); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), "stk_") || strings.Contains(string(body), "sealed") || idemKey == "0b8f7c9e-secret" {
			t.Errorf("stored row is readable: key %q body %q", idemKey, body)
		}
		if r := e.do("POST", "/api/v1/api-keys", e.key.Secret, `{"name":"sealed","role":"operator"}`, "0b8f7c9e-secret"); string(r.body) != string(a.body) {
			t.Errorf("replay %s, want %s", r.body, a.body)
		}
	})
}
