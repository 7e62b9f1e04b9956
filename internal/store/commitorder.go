package store

// IDsInCommitOrder reports whether the ids a table hands out rise in the
// order their transactions commit, so that once an id is seen committed,
// every lower id is committed too, and a table read in id ranges by
// several read transactions is read consistently. SQLite's single writer
// commits its transactions one after another; PostgreSQL's sequences hand
// out ids to concurrent transactions that may commit in any order.
func (db *DB) IDsInCommitOrder() bool { return !db.ConcurrentWriters() }
