package store

import "strings"

// ForShare returns the clause that locks the rows a SELECT reads against
// change until the transaction ends while letting other readers lock them
// the same way, " FOR SHARE" (" FOR SHARE OF t, …" when tables are named),
// where writers run concurrently, and "" on SQLite, whose single writer
// needs no row locks. Many transactions may hold it at once; one that asks
// for ForUpdate on the same row waits for them all. Append it to the
// statement.
func (tx *Tx) ForShare(tables ...string) string {
	if !tx.ConcurrentWriters() {
		return ""
	}
	if len(tables) == 0 {
		return " FOR SHARE"
	}
	return " FOR SHARE OF " + strings.Join(tables, ", ")
}
