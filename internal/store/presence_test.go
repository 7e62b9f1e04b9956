package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestPresenceEndsWithItsProcess(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			gone, stays := storetest.OpenTwice(t, engine)
			token, err := gone.Presence(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := gone.Presence(ctx); again != token {
				t.Fatalf("a process's token changed: %s, %s", token, again)
			}
			if own, err := gone.Present(ctx, token); err != nil || !own {
				t.Fatalf("own token not present: %v", err)
			}
			alive, err := stays.Present(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			// On SQLite one process owns the file: another handle is a
			// restarted process, for which any other token is gone.
			if want := engine == store.Postgres; alive != want {
				t.Fatalf("while its process lives, present = %v on %s", alive, engine)
			}
			gone.Close()
			// The server ends the closed session (and its lock) right after
			// the connection goes, not necessarily before Close returns.
			deadline := time.Now().Add(5 * time.Second)
			for {
				alive, err := stays.Present(ctx, token)
				if err != nil {
					t.Fatal(err)
				}
				if !alive {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("still present 5 s after its process stopped")
				}
				time.Sleep(20 * time.Millisecond)
			}
			for _, junk := range []string{"", "pg:x", "pg:42", "sqlite:zz"} {
				if alive, _ := stays.Present(ctx, junk); alive {
					t.Errorf("%q present", junk)
				}
			}
		})
	}
}

// TestPresenceOutlivesALostConnection: the database ends the session that
// holds a process's presence (as a restart of PostgreSQL does). Before,
// the process then looked stopped to every other node for as long as it
// ran; now it takes its lock again, under the same token.
func TestPresenceOutlivesALostConnection(t *testing.T) {
	ctx := context.Background()
	node, other := storetest.OpenTwice(t, store.Postgres)
	token, err := node.Presence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := strconv.ParseInt(strings.TrimPrefix(token, "pg:"), 10, 64)
	var ended bool
	if err := other.Read().QueryRowContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'
		AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1`, key>>32, key&0xffffffff).Scan(&ended); err != nil || !ended {
		t.Fatalf("ending the presence session: %v %v", ended, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		again, err := node.Presence(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again != token {
			t.Fatalf("the token changed from %s to %s", token, again)
		}
		if alive, err := other.Present(ctx, token); err != nil {
			t.Fatal(err)
		} else if alive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the process still looks stopped 10 s after losing its presence connection")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
