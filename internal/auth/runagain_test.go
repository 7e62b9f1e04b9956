package auth_test

import (
	"context"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// A login from a new browser gives it a device cookie and remembers the
// browser in the same transaction. When the transaction ran again (SQLite's
// group commit, PostgreSQL's retry), the second run took the cookie made by
// the first for one the browser already had, updated a row the rollback had
// removed, and the browser was never remembered: its next login got a new
// cookie and the throttles others can trip held it back again.
func TestLoginRunAgainRemembersTheBrowser(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := storetest.NewFixture(t, db)
	from := func(ctx context.Context, device string) context.Context {
		return actor.WithRequest(ctx, actor.Request{IP: "198.51.100.7", UserAgent: "test", Device: device})
	}
	ctx, runs := storetest.RunAgain(t, from(context.Background(), ""), db)
	sess, err := f.Auth.Login(ctx, "admin@example.com", f.AdminPassword)
	if err != nil || sess.DeviceToken == "" {
		t.Fatalf("login: %v, device token %q", err, sess.DeviceToken)
	}
	if n := runs(); n != 2 {
		t.Fatalf("the login's transaction ran %d times, want 2", n)
	}
	again, err := f.Auth.Login(from(context.Background(), sess.DeviceToken), "admin@example.com", f.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if again.DeviceToken != "" {
		t.Errorf("the browser's device cookie was not remembered: its next login got a new one")
	}
}
