package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Checkpoint is a signed statement of a workspace's tree: its size and root
// hash, as a C2SP signed note.
type Checkpoint struct {
	Size     int64     `json:"size"`
	RootHash tlog.Hash `json:"root_hash"`
	// Note is the signed note: the checkpoint body, a blank line and the
	// signature lines.
	Note     string    `json:"note"`
	SignedAt time.Time `json:"signed_at"`
}

// LatestCheckpoint returns the newest checkpoint of the actor's workspace.
// Every member may read it: it says nothing about the entries themselves.
func LatestCheckpoint(ctx context.Context, db *store.DB) (Checkpoint, error) {
	who, err := actor.Current(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	return latestCheckpoint(ctx, db.Read(), who.WorkspaceID)
}

func latestCheckpoint(ctx context.Context, q store.Querier, ws int64) (Checkpoint, error) {
	var c Checkpoint
	var root []byte
	var at int64
	err := q.QueryRowContext(ctx, `SELECT size, root_hash, note, signed_at FROM ledger_checkpoints
		WHERE workspace_id = $1 ORDER BY size DESC LIMIT 1`, ws).Scan(&c.Size, &root, &c.Note, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, fault.New(fault.NotFound, "nothing has been sealed in this workspace yet")
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("latest checkpoint: %w", err)
	}
	copy(c.RootHash[:], root)
	c.SignedAt = store.Time(at)
	return c, nil
}

// VerifierKey is one key that has signed checkpoints of this install.
type VerifierKey struct {
	Name    string    `json:"name"`
	Key     string    `json:"verifier_key"`
	AddedAt time.Time `json:"added_at"`
	Current bool      `json:"current"`
}

// VerifierKeys lists the install's verifier keys, newest first; the first
// is the one signing now. Every member may read them: they are public.
func VerifierKeys(ctx context.Context, db *store.DB) ([]VerifierKey, error) {
	if _, err := actor.Current(ctx); err != nil {
		return nil, err
	}
	return verifierKeys(ctx, db.Read())
}

func verifierKeys(ctx context.Context, q store.Querier) ([]VerifierKey, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, verifier_key, added_at FROM ledger_keys ORDER BY added_at DESC, verifier_key`)
	if err != nil {
		return nil, fmt.Errorf("verifier keys: %w", err)
	}
	defer rows.Close()
	var out []VerifierKey
	for rows.Next() {
		var k VerifierKey
		var at int64
		if err := rows.Scan(&k.Name, &k.Key, &at); err != nil {
			return nil, err
		}
		k.AddedAt = store.Time(at)
		k.Current = len(out) == 0
		out = append(out, k)
	}
	return out, rows.Err()
}

// InclusionProof proves that one entry is in the workspace's signed tree.
type InclusionProof struct {
	Log      Log   `json:"log"`
	EntryID  int64 `json:"entry_id"`
	Sequence int64 `json:"sequence"`
	// Entry is the entry's canonical form: its leaf hash is the RFC 6962
	// record hash of these bytes.
	Entry    string    `json:"entry"`
	LeafHash tlog.Hash `json:"leaf_hash"`
	// Proof is the RFC 6962 audit path from the leaf to the checkpoint's
	// root.
	Proof      []tlog.Hash `json:"proof"`
	Checkpoint Checkpoint  `json:"checkpoint"`
}

// permissionFor is what reading an entry of log takes.
func permissionFor(log Log) actor.Permission {
	if log == ActivityEvents {
		return actor.ViewActivity
	}
	return actor.ViewInventory
}

// ProveEntry returns the inclusion proof of entry id of log against the
// latest checkpoint of the actor's workspace. Reading it takes what reading
// the entry takes.
func ProveEntry(ctx context.Context, db *store.DB, log Log, id int64) (InclusionProof, error) {
	if !log.Valid() {
		return InclusionProof{}, fault.Field("log", "must be inventory_log or activity_events")
	}
	who, err := actor.Require(ctx, permissionFor(log))
	if err != nil {
		return InclusionProof{}, err
	}
	q := db.Read()
	p := InclusionProof{Log: log, EntryID: id}
	var leaf []byte
	err = q.QueryRowContext(ctx, `SELECT seq, leaf_hash FROM ledger_leaves WHERE workspace_id = $1 AND log = $2 AND entry_id = $3`,
		who.WorkspaceID, string(log), id).Scan(&p.Sequence, &leaf)
	if errors.Is(err, sql.ErrNoRows) {
		var exists bool
		if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+string(log)+` WHERE workspace_id = $1 AND id = $2)`,
			who.WorkspaceID, id).Scan(&exists); err != nil {
			return InclusionProof{}, err
		}
		if exists {
			return InclusionProof{}, fault.New(fault.Conflict, "%s entry %d is not sealed yet: try again in a moment", log, id)
		}
		return InclusionProof{}, fault.New(fault.NotFound, "%s entry %d not found", log, id)
	}
	if err != nil {
		return InclusionProof{}, fmt.Errorf("leaf of %s entry %d: %w", log, id, err)
	}
	copy(p.LeafHash[:], leaf)
	data, err := readEntries(ctx, q, db, who.WorkspaceID, log, []int64{id})
	if err != nil {
		return InclusionProof{}, err
	}
	d, ok := data[id]
	if !ok {
		return InclusionProof{}, purgedOrGone(ctx, q, who.WorkspaceID, log, id, p.Sequence)
	}
	p.Entry = string(d)
	if p.Checkpoint, err = latestCheckpoint(ctx, q, who.WorkspaceID); err != nil {
		return InclusionProof{}, err
	}
	if p.Sequence >= p.Checkpoint.Size {
		return InclusionProof{}, fault.New(fault.Conflict, "%s entry %d is sealed after the latest checkpoint: try again in a moment", log, id)
	}
	hs := &hashStore{ctx: ctx, q: q, on: db, ws: who.WorkspaceID}
	if p.Proof, err = tlog.ProveRecord(p.Checkpoint.Size, p.Sequence, hs); err != nil {
		return InclusionProof{}, fmt.Errorf("prove %s entry %d: %w", log, id, err)
	}
	return p, nil
}

// purgedOrGone says why a sealed entry has no row: purged by retention (the
// purge records cover its leaf), or deleted against the rules.
func purgedOrGone(ctx context.Context, q store.Querier, ws int64, log Log, id, seq int64) error {
	var upTo int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(up_to_seq), -1) FROM ledger_purges WHERE workspace_id = $1`, ws).Scan(&upTo)
	if err != nil {
		return fmt.Errorf("purge records: %w", err)
	}
	if log == ActivityEvents && seq <= upTo {
		return fault.New(fault.Gone, "%s entry %d (sequence %d) was purged by retention: its leaf hash stays in the ledger, so the rest still verifies, but the entry itself is no longer kept", log, id, seq)
	}
	return fmt.Errorf("%s entry %d (sequence %d) is sealed but missing: run stocktrail verify", log, id, seq)
}

// ConsistencyProof proves that the tree of size Old is a prefix of the tree
// of size New: nothing sealed was changed or taken away in between.
type ConsistencyProof struct {
	Old     int64       `json:"old_size"`
	New     int64       `json:"new_size"`
	OldRoot tlog.Hash   `json:"old_root_hash"`
	NewRoot tlog.Hash   `json:"new_root_hash"`
	Proof   []tlog.Hash `json:"proof"`
}

// ProveConsistency returns the consistency proof between two tree sizes of
// the actor's workspace; newSize 0 means the latest checkpoint's.
func ProveConsistency(ctx context.Context, db *store.DB, oldSize, newSize int64) (ConsistencyProof, error) {
	who, err := actor.Current(ctx)
	if err != nil {
		return ConsistencyProof{}, err
	}
	q := db.Read()
	if newSize == 0 {
		c, err := latestCheckpoint(ctx, q, who.WorkspaceID)
		if err != nil {
			return ConsistencyProof{}, err
		}
		newSize = c.Size
	}
	if oldSize < 1 || oldSize > newSize {
		return ConsistencyProof{}, fault.Field("old", fmt.Sprintf("must be a tree size from 1 to %d", newSize))
	}
	size, err := treeSize(ctx, q, who.WorkspaceID)
	if err != nil {
		return ConsistencyProof{}, err
	}
	if newSize > size {
		return ConsistencyProof{}, fault.Field("new", fmt.Sprintf("the tree holds %d entries", size))
	}
	hs := &hashStore{ctx: ctx, q: q, on: db, ws: who.WorkspaceID}
	p := ConsistencyProof{Old: oldSize, New: newSize}
	if p.OldRoot, err = tlog.TreeHash(oldSize, hs); err != nil {
		return ConsistencyProof{}, err
	}
	if p.NewRoot, err = tlog.TreeHash(newSize, hs); err != nil {
		return ConsistencyProof{}, err
	}
	if p.Proof, err = tlog.ProveTree(newSize, oldSize, hs); err != nil {
		return ConsistencyProof{}, err
	}
	return p, nil
}

// Sequences returns the sequence numbers of the given entries of log that
// are sealed, for pages and exports that show them. The caller has read
// the entries, so it holds their permission.
func Sequences(ctx context.Context, db *store.DB, log Log, ids []int64) (map[int64]int64, error) {
	who, err := actor.Require(ctx, permissionFor(log))
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	w := store.NewWhere("workspace_id = ?", who.WorkspaceID).And("log = ?", string(log)).And(store.In(db, "entry_id", ids))
	rows, err := db.Read().QueryContext(ctx, `SELECT entry_id, seq FROM ledger_leaves WHERE `+w.String(), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("sequence numbers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, err
		}
		out[id] = seq
	}
	return out, rows.Err()
}
