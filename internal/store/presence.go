package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// presence is this process's mark of being alive, which other nodes can
// test: work a process claimed (an idempotency key, say) can be taken over
// at once when its owner is gone, instead of after a lease runs out.
type presence struct {
	mu    sync.Mutex
	token string
	key   int64
	conn  *sql.Conn // PostgreSQL: holds the advisory lock named by token
	// checked is when conn was last known to hold the lock. A connection
	// can die under it (the database restarted, the session was ended):
	// the lock is then gone and other nodes take this process for
	// stopped, so Presence tests it now and then and takes the lock again.
	checked time.Time
}

// presenceCheckEvery bounds how often Presence tests its connection: a
// round trip at most once a second, however many requests ask.
const presenceCheckEvery = time.Second

// Presence returns the token that names this process to other nodes for
// as long as it lives. On SQLite one server owns the file (ClaimServing), so
// every token but its own belongs to a process that has stopped. On PostgreSQL the
// token is a session advisory lock held by a dedicated connection, so it
// ends when the process dies or loses its connection.
func (db *DB) Presence(ctx context.Context) (string, error) {
	p := &db.presence
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token == "" && db.engine != Postgres {
		key, err := newPresenceKey()
		if err != nil {
			return "", err
		}
		p.token = "sqlite:" + strconv.FormatInt(key, 36)
	}
	if db.engine != Postgres {
		return p.token, nil
	}
	if p.conn != nil && time.Since(p.checked) >= presenceCheckEvery {
		// A context of its own: a caller that gave up must not make a
		// live connection look dead.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := p.conn.PingContext(pctx)
		cancel()
		if err != nil {
			p.conn.Close()
			p.conn = nil
		} else {
			p.checked = time.Now()
		}
	}
	if p.conn == nil {
		if err := p.lock(ctx, db); err != nil {
			return "", err
		}
	}
	return p.token, nil
}

// lock takes the advisory lock that names this process on a connection of
// its own: the same key again after a lost connection, so that the claims
// of this process stay its own, or a new one while the lost session still
// holds the old (its server has not noticed yet) rather than wait for it.
func (p *presence) lock(ctx context.Context, db *DB) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("presence connection: %w", err)
	}
	for range 3 {
		if p.token == "" {
			if p.key, err = newPresenceKey(); err != nil {
				break
			}
		}
		var got bool
		if err = conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, p.key).Scan(&got); err != nil {
			err = fmt.Errorf("presence lock: %w", err)
			break
		}
		if got {
			p.conn, p.checked, p.token = conn, time.Now(), "pg:"+strconv.FormatInt(p.key, 10)
			return nil
		}
		p.token, err = "", errors.New("presence lock: held by another session")
	}
	conn.Close()
	return err
}

// newPresenceKey returns a random positive key (readable in pg_locks).
func newPresenceKey() (int64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b[:]) >> 1), nil
}

// Present reports whether the process named by token (from Presence, on
// this node or another) is still alive.
func (db *DB) Present(ctx context.Context, token string) (bool, error) {
	own, err := db.Presence(ctx)
	if err != nil {
		return false, err
	}
	if token == own {
		return true, nil
	}
	rest, ok := strings.CutPrefix(token, "pg:")
	if db.engine != Postgres || !ok {
		return false, nil
	}
	key, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return false, nil
	}
	// A bigint advisory lock shows in pg_locks as its high and low halves.
	var alive bool
	err = db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1)`, key>>32, key&0xffffffff).Scan(&alive)
	if err != nil {
		return false, fmt.Errorf("presence of %s: %w", token, err)
	}
	return alive, nil
}

func (p *presence) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
}
