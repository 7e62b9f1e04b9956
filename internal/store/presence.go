package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// presence is this process's mark of being alive, which other nodes can
// test: work a process claimed (an idempotency key, say) can be taken over
// at once when its owner is gone, instead of after a lease runs out.
type presence struct {
	mu    sync.Mutex
	token string
	conn  *sql.Conn // PostgreSQL: holds the advisory lock named by token
}

// Presence returns the token that names this process to other nodes for
// as long as it lives. On SQLite one process owns the file, so every token
// but its own belongs to a process that has stopped. On PostgreSQL the
// token is a session advisory lock held by a dedicated connection, so it
// ends when the process dies or loses its connection.
func (db *DB) Presence(ctx context.Context) (string, error) {
	p := &db.presence
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token != "" {
		return p.token, nil
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	key := int64(binary.BigEndian.Uint64(b[:]) >> 1) // positive: readable in pg_locks
	if db.engine != Postgres {
		p.token = "sqlite:" + strconv.FormatInt(key, 36)
		return p.token, nil
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("presence connection: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		conn.Close()
		return "", fmt.Errorf("presence lock: %w", err)
	}
	p.conn, p.token = conn, "pg:"+strconv.FormatInt(key, 10)
	return p.token, nil
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
