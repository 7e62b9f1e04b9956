package store

import (
	"context"
	"database/sql"
	"sync/atomic"
	"time"
)

// SQLite copies the write-ahead log back into the database file in a
// checkpoint, which by default the writer runs itself after a commit that
// takes the log past 1,000 pages: the pages' writes and the database file's
// fsync then hold up the one writer and every request queued behind it. This
// goroutine runs PASSIVE checkpoints on a connection of its own instead,
// which never wait for, nor block, the writer or readers.
//
// They cannot keep the log short on their own: the writer starts the log
// from the top only when a transaction of its begins with every frame
// copied back, and under a steady stream of commits a checkpoint beside it
// is always a few frames behind (a test saw the log reach 296 MB in 8 s).
// So the writer still checkpoints itself once the log passes 16,384 pages
// (wal_autocheckpoint, 64 MB): by then this goroutine has copied nearly all
// of it, the writer copies the last frames, and its next transaction
// restarts the log. Each of those checkpoints ends with an fsync of the
// database file inside the writer's time, so they are rare: at 4,096 pages
// they cost the writer about 50 µs a receipt, and receipts ran 15-20%
// slower. journal_size_limit then cuts the file back to 64 MB after a burst
// (a big import) made it longer.
type checkpointer struct {
	conn    *sql.DB
	stop    chan struct{}
	stopped chan struct{}
	// runs counts checkpoints, for tests.
	runs atomic.Int64
}

// checkpointEvery is how often the log is copied back. Each checkpoint that
// copies anything ends with an fsync of the database file, so not at every
// commit: a busy writer adds a few hundred pages in this time, less than
// the 1,000 at which it used to checkpoint itself.
const checkpointEvery = 200 * time.Millisecond

func newCheckpointer(conn *sql.DB) *checkpointer {
	c := &checkpointer{conn: conn, stop: make(chan struct{}), stopped: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		// A failed checkpoint (the file busy, say) only leaves the pages in
		// the log for the next one; nothing is lost.
		c.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		c.runs.Add(1)
	}
}

// close stops the goroutine. The last connection to close (the writer's)
// checkpoints the whole log and removes it.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.stopped
	return c.conn.Close()
}
