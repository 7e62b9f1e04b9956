package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// failedEvent is a LOGIN_FAILED event's values as the contract names them.
type failedEvent struct {
	email, ip, entityID string
	attempts            int64
	firstAt, lastAt     string
	reason, desc        string
}

func failedEvents(t *testing.T, db *store.DB, ws int64, email string) []failedEvent {
	t.Helper()
	rows, err := db.Read().QueryContext(context.Background(), `SELECT ip, entity_id, COALESCE(new_values, ''), description
		FROM activity_events WHERE workspace_id = $1 AND action = 'LOGIN_FAILED' AND actor_name = $2 ORDER BY id`, ws, email)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []failedEvent
	for rows.Next() {
		var e failedEvent
		var raw string
		if err := rows.Scan(&e.ip, &e.entityID, &raw, &e.desc); err != nil {
			t.Fatal(err)
		}
		var v struct {
			Email    string `json:"email"`
			Reason   string `json:"reason"`
			Attempts *int64 `json:"attempts"`
			FirstAt  string `json:"first_at"`
			LastAt   string `json:"last_at"`
		}
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			t.Fatalf("new_values %q: %v", raw, err)
		}
		e.email, e.reason, e.firstAt, e.lastAt, e.attempts = v.Email, v.Reason, v.FirstAt, v.LastAt, 1
		if v.Attempts != nil {
			e.attempts = *v.Attempts
		}
		out = append(out, e)
	}
	return out
}

func sumAttempts(evs []failedEvent) int64 {
	var n int64
	for _, e := range evs {
		n += e.attempts
	}
	return n
}

// A flood of refused logins from concurrent clients writes a bounded number
// of events whose attempts add up to every refusal, while the lockout still
// refuses the right password.
func TestFailedLoginFloodIsCoalesced(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ws := f.Workspace.ID
		base := time.Now().UTC().Truncate(time.Second)
		var offset atomic.Int64 // µs past base
		f.Auth.Now = func() time.Time { return base.Add(time.Duration(offset.Load()) * time.Microsecond) }
		ctx := actor.WithRequest(context.Background(), actor.Request{IP: "203.0.113.9", UserAgent: "flood/1"})

		const threads, perThread = 4, 60
		flood := func() {
			var wg sync.WaitGroup
			for range threads {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range perThread {
						if _, err := f.Auth.Login(ctx, "admin@example.com", "not the password"); err == nil {
							t.Error("a wrong password logged in")
						}
					}
				}()
			}
			wg.Wait()
		}
		flood()
		// Within one window: the first refusal is in the log at once, the
		// rest are counted.
		if evs := failedEvents(t, db, ws, "admin@example.com"); len(evs) != 1 || evs[0].attempts != 1 || evs[0].entityID == "" {
			t.Fatalf("after one window's flood: %+v", evs)
		}
		// The right password is refused while the account is locked.
		var fe *fault.Error
		if _, err := f.Auth.Login(ctx, "admin@example.com", f.AdminPassword); !errors.As(err, &fe) || fe.Kind != fault.TooManyRequests {
			t.Fatalf("locked account: %v", err)
		}
		total := int64(threads*perThread + 1)

		// A second flood three windows later (the lock has expired by then
		// too, so some are wrong passwords again, then locked out again).
		offset.Store(int64(3 * auth.LoginFailureWindow / time.Microsecond))
		flood()
		total += threads * perThread
		// The job flushes what is pending once the window is over.
		n, err := auth.FlushLoginFailures(context.Background(), db, base.Add(10*auth.LoginFailureWindow))
		if err != nil || n != 1 {
			t.Fatalf("flush: %d events, %v", n, err)
		}
		if n, err := auth.FlushLoginFailures(context.Background(), db, base.Add(10*auth.LoginFailureWindow)); err != nil || n != 0 {
			t.Fatalf("second flush wrote %d events again, %v", n, err)
		}
		evs := failedEvents(t, db, ws, "admin@example.com")
		// Two windows: each its first refusal plus one event of the rest.
		if len(evs) != 4 {
			t.Errorf("%d events for %d refusals: %+v", len(evs), total, evs)
		}
		if got := sumAttempts(evs); got != total {
			t.Errorf("attempts add up to %d, want %d", got, total)
		}
		t.Logf("%s: %d refused logins from %d threads recorded as %d events", db.Engine(), total, threads, len(evs))
		for _, e := range evs {
			if e.email != "admin@example.com" || e.ip != "203.0.113.9" || e.reason == "" {
				t.Errorf("event %+v", e)
			}
			if e.attempts > 1 {
				first, err1 := time.Parse(time.RFC3339, e.firstAt)
				last, err2 := time.Parse(time.RFC3339, e.lastAt)
				if err1 != nil || err2 != nil || last.Before(first) || !strings.HasSuffix(e.firstAt, "Z") {
					t.Errorf("coalesced event times %q %q", e.firstAt, e.lastAt)
				}
				if !strings.Contains(e.desc, "failed logins for admin@example.com from 203.0.113.9 between") {
					t.Errorf("description %q", e.desc)
				}
			}
		}
		if !strings.Contains(evs[1].reason, "locked out") {
			t.Errorf("reasons of the coalesced attempts: %q", evs[1].reason)
		}
	})
}

// A successful login records the failures before it first, and forgets the
// window; other addresses are counted apart.
func TestLoginFlushesPendingFailures(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ws := f.Workspace.ID
		ctx := actor.WithRequest(context.Background(), actor.Request{IP: "198.51.100.7"})
		other := actor.WithRequest(context.Background(), actor.Request{IP: "198.51.100.8"})
		for range 3 {
			f.Auth.Login(ctx, "admin@example.com", "typo typo typo")
		}
		f.Auth.Login(other, "admin@example.com", "typo typo typo")
		if _, err := f.Auth.Login(ctx, "admin@example.com", f.AdminPassword); err != nil {
			t.Fatal(err)
		}
		evs := failedEvents(t, db, ws, "admin@example.com")
		if len(evs) != 3 || sumAttempts(evs) != 4 || evs[2].attempts != 2 || evs[2].ip != "198.51.100.7" {
			t.Fatalf("events %+v", evs)
		}
		// The login follows the failures it ended.
		var loginID, lastFailedID int64
		db.Read().QueryRowContext(context.Background(), `SELECT MAX(id) FROM activity_events WHERE workspace_id = $1 AND action = 'LOGIN'`, ws).Scan(&loginID)
		db.Read().QueryRowContext(context.Background(), `SELECT MAX(id) FROM activity_events WHERE workspace_id = $1 AND action = 'LOGIN_FAILED'`, ws).Scan(&lastFailedID)
		if loginID < lastFailedID {
			t.Errorf("LOGIN %d before the failures it ended (%d)", loginID, lastFailedID)
		}
		// Nothing is left to flush for the address that logged in; the
		// other address's window holds nothing pending either.
		if n, err := auth.FlushLoginFailures(context.Background(), db, time.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("flush after login: %d, %v", n, err)
		}
		if got := countEvents(t, db, ws, activity.LoginFailed); got != 3 {
			t.Errorf("%d LOGIN_FAILED events", got)
		}
	})
}
