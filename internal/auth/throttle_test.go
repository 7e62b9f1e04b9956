package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// TestNobodyCanLockSomeoneOut: 40 wrong passwords for the admin used to
// lock the admin out for 15 minutes, renewable forever, and 20 failures from
// one address locked out everyone behind it. Guesses now hold back only the
// guesser's own account-and-address pair, an address without trusted
// browsers, and (past 50) the account for browsers it has never seen; a
// browser that logged in before keeps its way in.
func TestNobodyCanLockSomeoneOut(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		now := time.Now().UTC()
		f.Auth.Now = func() time.Time { return now }
		from := func(ip, device string) context.Context {
			return actor.WithRequest(context.Background(), actor.Request{IP: ip, UserAgent: "test", Device: device})
		}
		locked := func(err error) bool {
			var fe *fault.Error
			return errors.As(err, &fe) && fe.Kind == fault.TooManyRequests
		}
		// The admin's own browser, at the office, logged in once before.
		sess, err := f.Auth.Login(from("198.51.100.7", ""), "admin@example.com", f.AdminPassword)
		if err != nil || sess.DeviceToken == "" {
			t.Fatalf("first login: %v, device token %q", err, sess.DeviceToken)
		}
		device := sess.DeviceToken

		// An attacker guesses 40 times from one address.
		for i := 0; i < 40; i++ {
			f.Auth.Login(from("203.0.113.66", ""), "admin@example.com", "guess")
		}
		if _, err := f.Auth.Login(from("203.0.113.66", ""), "admin@example.com", f.AdminPassword); !locked(err) {
			t.Fatalf("the guesser's own pair is not held back: %v", err)
		}
		// The admin, from another address, still logs in: with the browser
		// that logged in before and even from a new one.
		if _, err := f.Auth.Login(from("198.51.100.7", device), "admin@example.com", f.AdminPassword); err != nil {
			t.Fatalf("the admin's own browser was locked out: %v", err)
		}
		if _, err := f.Auth.Login(from("192.0.2.10", ""), "admin@example.com", f.AdminPassword); err != nil {
			t.Fatalf("the admin from another address was locked out: %v", err)
		}

		// Behind a shared proxy address, someone tries 25 accounts' passwords.
		for i := 0; i < 25; i++ {
			f.Auth.Login(from("10.9.9.9", ""), fmt.Sprintf("user%d@example.com", i), "guess")
		}
		// A new browser behind that address waits ...
		if _, err := f.Auth.Login(from("10.9.9.9", ""), "admin@example.com", f.AdminPassword); !locked(err) {
			t.Fatalf("an address past its limit is not held back for unknown browsers: %v", err)
		}
		// ... but the admin's known browser behind it does not.
		if _, err := f.Auth.Login(from("10.9.9.9", device), "admin@example.com", f.AdminPassword); err != nil {
			t.Fatalf("a known browser behind a busy address was locked out: %v", err)
		}
		// A device cookie is the account's: it does not vouch for another one.
		if _, err := f.Auth.Login(from("10.9.9.9", device), "user1@example.com", "guess"); !locked(err) {
			t.Fatalf("the admin's device cookie exempted another account: %v", err)
		}

		// The hold grows: a minute after the fifth failure, then two.
		if _, err := f.Auth.Login(from("192.0.2.44", ""), "admin@example.com", "x"); err == nil {
			t.Fatal("wrong password accepted")
		}
		for i := 0; i < 4; i++ {
			f.Auth.Login(from("192.0.2.44", ""), "admin@example.com", "x")
		}
		now = now.Add(61 * time.Second)
		if _, err := f.Auth.Login(from("192.0.2.44", ""), "admin@example.com", "x"); locked(err) || err == nil {
			t.Fatalf("after the first hold: %v, want a plain refusal", err)
		}
		now = now.Add(61 * time.Second)
		if _, err := f.Auth.Login(from("192.0.2.44", ""), "admin@example.com", f.AdminPassword); !locked(err) {
			t.Fatalf("the second hold is not longer than the first: %v", err)
		}
		now = now.Add(61 * time.Second)
		if _, err := f.Auth.Login(from("192.0.2.44", ""), "admin@example.com", f.AdminPassword); err != nil {
			t.Fatalf("after the second hold: %v", err)
		}
	})
}
