package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestTwoNodesShareOnePostgres runs two independent servers (own pools, own
// services) on one PostgreSQL database: a session opened on one works on the
// other, and a key revoked on one stops working on the other at once.
func TestTwoNodesShareOnePostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	var nodes []*app
	for i := 0; i < 2; i++ {
		db, err := store.Open(ctx, store.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil { // both migrate: the second finds nothing to do
			t.Fatal(err)
		}
		if i == 0 {
			nodes = append(nodes, newApp(t, db))
			continue
		}
		svc := auth.New(db)
		svc.Params = storetest.FastHashing
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: svc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
		t.Cleanup(srv.Close)
		nodes = append(nodes, &app{Fixture: nodes[0].Fixture, srv: srv, adminKey: nodes[0].adminKey})
	}
	a, b := nodes[0], nodes[1]

	br := a.browser(t)
	if r := br.login("admin@example.com", a.AdminPassword); r.status != 303 {
		t.Fatalf("login on node A: %d", r.status)
	}
	cookie := sessionCookie(t, br)
	other := b.browser(t)
	other.client.Jar.SetCookies(mustURL(b.srv.URL), []*httpCookie{{Name: "stocktrail_session", Value: cookie}})
	if r := other.get("/users"); r.status != 200 {
		t.Fatalf("node A's session on node B: %d", r.status)
	}

	key := a.key(t, actor.Operator)
	if r := b.call(t, "GET", "/api/v1/me", key, nil); r.status != 200 {
		t.Fatalf("key on node B: %d", r.status)
	}
	list := a.call(t, "GET", "/api/v1/api-keys", a.adminKey, nil).json(t)["data"].([]any)
	newest := list[0].(map[string]any)["id"].(float64)
	if r := a.call(t, "DELETE", "/api/v1/api-keys/"+itoa(int64(newest)), a.adminKey, nil); r.status != 204 {
		t.Fatalf("revoke on node A: %d %s", r.status, r.body)
	}
	if r := b.call(t, "GET", "/api/v1/me", key, nil); r.status != 401 {
		t.Fatalf("revoked key still works on node B: %d", r.status)
	}
}
