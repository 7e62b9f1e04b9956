package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestStationSessions(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		st, err := f.Auth.CreateStation(f.Ctx, "Dock 1", 0)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for _, bad := range []string{"", "sts_unknown_x", st.Prefix, "stk_" + st.Token[4:], strings.Repeat("sts_", 60)} {
			if _, err := f.Auth.StationSignIn(ctx, bad); fault.KindOf(err) != fault.Invalid {
				t.Errorf("token %q: %v", bad, err)
			}
		}
		if got := events(t, db, f.Workspace.ID, "stations"); len(got) != 1 { // CREATE only
			t.Fatalf("bad tokens recorded events: %v", got)
		}
		sess, err := f.Auth.StationSignIn(ctx, st.Token)
		if err != nil || sess.Token == "" || sess.CSRFToken == "" || sess.Station.Name != "Dock 1" {
			t.Fatalf("sign in: %+v %v", sess, err)
		}
		a, csrf, err := f.Auth.ResolveStationSession(ctx, sess.Token)
		if err != nil || csrf != sess.CSRFToken || a.Kind != actor.Station || a.ID != st.ID || a.Name != "Dock 1" || a.Role != actor.StationRole {
			t.Fatalf("resolve: %+v %v", a, err)
		}
		// A user session token is not a station session, nor the reverse.
		if _, _, err := f.Auth.ResolveSession(ctx, sess.Token); err == nil {
			t.Fatal("station session resolved as a user session")
		}
		// The draft belongs to the session and only a station touches it.
		sctx := actor.With(ctx, a)
		if err := f.Auth.SetStationDraft(sctx, sess.Token, `[1]`); err != nil {
			t.Fatal(err)
		}
		if d, err := f.Auth.StationDraft(sctx, sess.Token); err != nil || d != `[1]` {
			t.Fatalf("draft %q %v", d, err)
		}
		if _, err := f.Auth.StationDraft(f.Ctx, sess.Token); fault.KindOf(err) != fault.Unauthorized {
			t.Fatalf("a user read a station's draft: %v", err)
		}
		if err := f.Auth.SetStationDraft(sctx, sess.Token, strings.Repeat("x", auth.MaxStationDraft+1)); fault.KindOf(err) != fault.TooLarge {
			t.Fatalf("huge draft: %v", err)
		}

		// Expiry: idle for longer than StationSessionIdle.
		later := time.Now().Add(auth.StationSessionIdle + time.Hour)
		f.Auth.Now = func() time.Time { return later }
		if _, _, err := f.Auth.ResolveStationSession(ctx, sess.Token); fault.KindOf(err) != fault.Unauthorized || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("expired session: %v", err)
		}
		f.Auth.Now = time.Now
		if got := events(t, db, f.Workspace.ID, "stations"); strings.Join(got, ",") != "CREATE,LOGIN,SESSION_EXPIRED" {
			t.Fatalf("events %v", got)
		}

		// Revoking ends every session of the station at once.
		s1, _ := f.Auth.StationSignIn(ctx, st.Token)
		s2, _ := f.Auth.StationSignIn(ctx, st.Token)
		if err := f.Auth.RevokeStation(f.Ctx, st.ID); err != nil {
			t.Fatal(err)
		}
		for _, s := range []auth.StationSession{s1, s2} {
			if _, _, err := f.Auth.ResolveStationSession(ctx, s.Token); fault.KindOf(err) != fault.Unauthorized {
				t.Fatalf("session after revoke: %v", err)
			}
		}
		if _, err := f.Auth.StationSignIn(ctx, st.Token); fault.KindOf(err) != fault.Invalid {
			t.Fatalf("revoked token signed in: %v", err)
		}
	})
}
