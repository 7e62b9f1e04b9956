package ledger

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/store"
)

// hashStore reads a workspace's stored tree hashes (tlog's index space),
// with the hashes a sealing round has computed but not written yet laid
// over them.
type hashStore struct {
	ctx   context.Context
	q     store.Querier
	on    interface{ Engine() store.Engine }
	ws    int64
	fresh map[int64]tlog.Hash
}

// ReadHashes implements tlog.HashReader.
func (h *hashStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for i, idx := range indexes {
		if v, ok := h.fresh[idx]; ok {
			out[i] = v
			continue
		}
		missing = append(missing, idx)
	}
	if len(missing) == 0 {
		return out, nil
	}
	w := store.NewWhere("workspace_id = ?", h.ws).And(store.In(h.on, "idx", missing))
	rows, err := h.q.QueryContext(h.ctx, `SELECT idx, hash FROM ledger_hashes WHERE `+w.String(), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("read tree hashes: %w", err)
	}
	defer rows.Close()
	found := make(map[int64]tlog.Hash, len(missing))
	for rows.Next() {
		var idx int64
		var b []byte
		if err := rows.Scan(&idx, &b); err != nil {
			return nil, err
		}
		if len(b) != tlog.HashSize {
			return nil, fmt.Errorf("tree hash %d is %d bytes", idx, len(b))
		}
		var v tlog.Hash
		copy(v[:], b)
		found[idx] = v
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, idx := range indexes {
		if _, ok := h.fresh[idx]; ok {
			continue
		}
		v, ok := found[idx]
		if !ok {
			return nil, fmt.Errorf("tree hash %d of workspace %d is missing", idx, h.ws)
		}
		out[i] = v
	}
	return out, nil
}

// treeSize is how many leaves the workspace's tree holds.
func treeSize(ctx context.Context, q store.Querier, ws int64) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq) + 1, 0) FROM ledger_leaves WHERE workspace_id = $1`, ws).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("ledger size: %w", err)
	}
	return n, nil
}
