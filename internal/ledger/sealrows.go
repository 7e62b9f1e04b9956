package ledger

import (
	"context"
	"encoding/hex"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/store"
)

// A sealing round writes thousands of leaves and stored hashes. Each table
// gets one statement whose text does not depend on the number of rows (so it
// is parsed and prepared once) and whose arguments are whole lists: arrays
// unnested on PostgreSQL, one JSON array of rows on SQLite. A multi-row
// VALUES list would take a parameter per value, and the SQLite driver looks
// up every parameter's name in a list, which is quadratic in their number.

// newLeaf is a leaf a round adds.
type newLeaf struct {
	seq     int64
	log     Log
	entryID int64
	hash    tlog.Hash
}

// newHash is a stored tree hash a round adds.
type newHash struct {
	idx  int64
	hash tlog.Hash
}

func insertLeaves(ctx context.Context, tx *store.Tx, ws, sealedAt int64, leaves []newLeaf) error {
	query := store.Pick(tx,
		`INSERT INTO ledger_leaves (workspace_id, seq, log, entry_id, leaf_hash, sealed_at)
			SELECT $1, value->>0, value->>1, value->>2, unhex(value->>3), $2 FROM json_each($3)`,
		`INSERT INTO ledger_leaves (workspace_id, seq, log, entry_id, leaf_hash, sealed_at)
			SELECT $1, s, l, e, h, $2 FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::bytea[]) AS u (s, l, e, h)`)
	rows := store.Pick(tx, sqliteLeafRows, postgresLeafRows)
	_, err := tx.ExecContext(ctx, query, append([]any{ws, sealedAt}, rows(leaves)...)...)
	return err
}

// sqliteLeafRows is [[seq, "log", entry id, "hex hash"], ...].
func sqliteLeafRows(leaves []newLeaf) []any {
	b := make([]byte, 0, len(leaves)*(100))
	b = append(b, '[')
	for i, l := range leaves {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, l.seq, 10)
		b = append(b, `,"`...)
		b = append(b, l.log...) // a Log is a table name: nothing to escape
		b = append(b, `",`...)
		b = strconv.AppendInt(b, l.entryID, 10)
		b = append(b, `,"`...)
		b = hex.AppendEncode(b, l.hash[:])
		b = append(b, `"]`...)
	}
	return []any{string(append(b, ']'))}
}

func postgresLeafRows(leaves []newLeaf) []any {
	seqs, logs, ids, hashes := make([]int64, len(leaves)), make([]string, len(leaves)), make([]int64, len(leaves)), make([][]byte, len(leaves))
	for i, l := range leaves {
		seqs[i], logs[i], ids[i], hashes[i] = l.seq, string(l.log), l.entryID, l.hash[:]
	}
	return []any{seqs, logs, ids, hashes}
}

func insertHashes(ctx context.Context, tx *store.Tx, ws int64, hashes []newHash) error {
	query := store.Pick(tx,
		`INSERT INTO ledger_hashes (workspace_id, idx, hash) SELECT $1, value->>0, unhex(value->>1) FROM json_each($2)`,
		`INSERT INTO ledger_hashes (workspace_id, idx, hash) SELECT $1, i, h FROM unnest($2::bigint[], $3::bytea[]) AS u (i, h)`)
	rows := store.Pick(tx, sqliteHashRows, postgresHashRows)
	_, err := tx.ExecContext(ctx, query, append([]any{ws}, rows(hashes)...)...)
	return err
}

// sqliteHashRows is [[index, "hex hash"], ...].
func sqliteHashRows(hashes []newHash) []any {
	b := make([]byte, 0, len(hashes)*80)
	b = append(b, '[')
	for i, h := range hashes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, h.idx, 10)
		b = append(b, `,"`...)
		b = hex.AppendEncode(b, h.hash[:])
		b = append(b, `"]`...)
	}
	return []any{string(append(b, ']'))}
}

func postgresHashRows(hashes []newHash) []any {
	idx, hs := make([]int64, len(hashes)), make([][]byte, len(hashes))
	for i, h := range hashes {
		idx[i], hs[i] = h.idx, h.hash[:]
	}
	return []any{idx, hs}
}
