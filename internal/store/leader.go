package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Leadership is the right to run background work on this node, held until
// Release. On PostgreSQL it is a session advisory lock held by one dedicated
// connection, so it ends by itself if the node dies or loses its connection;
// on SQLite (one server owns the file: ClaimServing) it is always granted.
type Leadership struct {
	conn *sql.Conn
	key  int64
}

// TryLead tries to take the leadership named by key without waiting. It
// returns nil and no error when another node holds it.
func (db *DB) TryLead(ctx context.Context, key int64) (*Leadership, error) {
	if db.engine != Postgres {
		return &Leadership{key: key}, nil
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("leader connection: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Close()
		return nil, fmt.Errorf("try advisory lock: %w", err)
	}
	if !got {
		conn.Close()
		return nil, nil
	}
	return &Leadership{conn: conn, key: key}, nil
}

// Alive reports whether the leadership still holds: on PostgreSQL, whether
// its connection (and so its lock) is still there.
func (l *Leadership) Alive(ctx context.Context) bool {
	if l.conn == nil {
		return true
	}
	// A session advisory lock lives exactly as long as its connection.
	return l.conn.PingContext(ctx) == nil
}

// Release gives the leadership up.
func (l *Leadership) Release() {
	if l.conn == nil {
		return
	}
	// A fresh context: releasing must happen even when the caller's is done.
	l.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, l.key)
	l.conn.Close()
	l.conn = nil
}
