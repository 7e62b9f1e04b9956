package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestAPICallsAreRecorded(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		key, err := f.Auth.CreateAPIKey(f.Ctx, "erp", actor.Admin)
		if err != nil {
			t.Fatal(err)
		}
		opKey, err := f.Auth.CreateAPIKey(f.Ctx, "scanner-script", actor.Operator)
		if err != nil {
			t.Fatal(err)
		}
		// Behind a trusted proxy, the recorded address is the client's.
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}))
		defer srv.Close()
		call := func(secret, method, path string) int {
			req, _ := http.NewRequest(method, srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			req.Header.Set("User-Agent", "erp-client/2")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res.StatusCode
		}
		if code := call(key.Secret, "GET", "/api/v1/users"); code != 200 {
			t.Fatalf("users: %d", code)
		}
		if code := call(key.Secret, "GET", "/api/v1/assets"); code != 200 {
			t.Fatalf("assets: %d", code)
		}
		if code := call(opKey.Secret, "GET", "/api/v1/users"); code != 403 {
			t.Fatalf("operator users: %d", code)
		}
		if code := call(key.Secret, "GET", "/api/v1/nothing-here"); code != 404 {
			t.Fatalf("unknown path: %d", code)
		}
		call(key.Secret, "GET", "/api/v1/audit-logs?limit=1")   // records READ, no API_CALL
		call(opKey.Secret, "GET", "/api/v1/audit-logs?limit=1") // 403: recorded as API_ERROR
		call("stk_wrong", "GET", "/api/v1/users")               // no workspace: not recorded

		res, err := activity.List(f.Ctx, db, activity.Filter{Category: activity.API})
		if err != nil {
			t.Fatal(err)
		}
		type seen struct {
			action activity.Action
			actor  string
			path   string
			status float64
			// committed: recorded inside the call's own transaction
			committed bool
		}
		var got []seen
		for _, ev := range res.Events {
			var v map[string]any
			json.Unmarshal(ev.New.(json.RawMessage), &v)
			status, _ := v["status"].(float64)
			committed, _ := v["committed"].(bool)
			got = append(got, seen{ev.Action, ev.ActorName, v["path"].(string), status, committed})
			if ev.IP != "203.0.113.9" || ev.UserAgent != "erp-client/2" || ev.RequestID == "" || ev.ActorKind != "api_key" {
				t.Errorf("event facts %+v", ev)
			}
		}
		// Listing users records a READ, and the call's API_CALL commits with
		// it; listing assets writes nothing, so its API_CALL comes after.
		want := []seen{
			{activity.APIError, "scanner-script", "/api/v1/audit-logs", 403, false},
			{activity.APIError, "erp", "/api/v1/nothing-here", 404, false},
			{activity.APIError, "scanner-script", "/api/v1/users", 403, false},
			{activity.APICall, "erp", "/api/v1/assets", 200, false},
			{activity.APICall, "erp", "/api/v1/users", 0, true},
		}
		if len(got) != len(want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("event %d: %+v, want %+v", i, got[i], want[i])
			}
		}
		if !strings.Contains(res.Events[3].Description, "GET /api/v1/assets → 200") || res.Events[3].EntityID == "" {
			t.Errorf("API_CALL event %+v", res.Events[3])
		}
		if !strings.Contains(res.Events[4].Description, "GET /api/v1/users → committed") || res.Events[4].EntityID == "" {
			t.Errorf("in-transaction API_CALL event %+v", res.Events[4])
		}
	})
}
