package store

// GroupsByHashing reports whether the database groups rows by hashing them
// (PostgreSQL's HashAggregate): a GROUP BY over many rows into few groups is
// then one pass whatever the order the rows are read in. SQLite groups by
// sorting, unless it reads the rows in the grouped order from an index, so
// grouping many rows that no index orders means sorting them all; summing
// raw rows in Go, or one ordered GROUP BY per index, is then often cheaper.
func (db *DB) GroupsByHashing() bool { return db.engine == Postgres }

// GroupsByHashing reports the same as DB.GroupsByHashing, inside a
// transaction.
func (tx *Tx) GroupsByHashing() bool { return tx.engine == Postgres }
