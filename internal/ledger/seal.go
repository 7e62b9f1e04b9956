package ledger

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/store"
)

// sealBatch is how many pending entries one sealing transaction takes at
// most. Under live load a round takes what came in since the last (a few
// thousand at most); a backlog (a bulk load, a sealer that was down) is
// sealed in rounds this large, each one transaction with its checkpoint.
const sealBatch = 10_000

// Sealer appends newly committed entries to their workspace's tree and
// signs a checkpoint for each tree it grew. One runs per install: the
// process on SQLite, the elected node on PostgreSQL. A second one running
// by mistake cannot fork a tree: leaves are keyed by (workspace, seq), so
// the slower of two conflicting rounds fails and its work is rolled back.
type Sealer struct {
	DB  *store.DB
	Key *Key
	// KeyFile is where Key lives, when it came from a file: RotateKey
	// writes the new key there.
	KeyFile string
	// CheckpointLog, when set, is a file each new checkpoint is appended to,
	// outside the database: against it, deleting the newest entries shows.
	CheckpointLog string
	// OnCheckpoint, when set, is told of each new checkpoint after it has
	// committed (to push it to a webhook); it must not block.
	OnCheckpoint func(workspaceID int64, signed []byte)
	Logger       *slog.Logger
	// mu serialises rounds of this process and the checkpoint file.
	mu sync.Mutex
	// origin is the install's origin, read once: it never changes.
	origin string
}

// Register records the key's verifier in the database (public half only),
// so that checkpoints it signs verify after later rotations too.
func (s *Sealer) Register(ctx context.Context) error {
	_, err := s.DB.Exec(ctx, `INSERT INTO ledger_keys (verifier_key, name, added_at) SELECT $1, $2, $3
		WHERE NOT EXISTS (SELECT 1 FROM ledger_keys WHERE verifier_key = $1)`, s.Key.Verifier, s.Key.Name(), store.Micros(time.Now()))
	if err != nil {
		return fmt.Errorf("register ledger key: %w", err)
	}
	return nil
}

// RotateKey replaces the signing key with a new one in KeyFile and
// registers its verifier. Checkpoints signed before keep verifying with the
// old verifier key, which stays registered.
func (s *Sealer) RotateKey(ctx context.Context) (*Key, error) {
	if s.KeyFile == "" {
		return nil, errors.New("the ledger key was given by flag or environment: rotate it there and restart every node")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, err := RotateKeyFile(s.KeyFile, s.Key.Name())
	if err != nil {
		return nil, err
	}
	old := s.Key
	s.Key = key
	if err := s.Register(ctx); err != nil {
		s.Key = old
		return nil, err
	}
	return key, nil
}

// Seal runs sealing rounds until nothing is pending, and reports how many
// entries it sealed.
func (s *Sealer) Seal(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.origin == "" {
		origin, err := installOrigin(ctx, s.DB)
		if err != nil {
			return 0, err
		}
		s.origin = origin
	}
	origin := s.origin
	// The workspaces with pending entries, one index probe each: a DISTINCT
	// would read the whole table, which on PostgreSQL still holds every row
	// a large backlog left behind until it is vacuumed.
	rows, err := s.DB.Read().QueryContext(ctx, `WITH RECURSIVE w (ws) AS (
			SELECT MIN(workspace_id) FROM ledger_pending
			UNION ALL
			SELECT (SELECT MIN(workspace_id) FROM ledger_pending WHERE workspace_id > w.ws) FROM w WHERE w.ws IS NOT NULL)
		SELECT ws FROM w WHERE ws IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("pending workspaces: %w", err)
	}
	var workspaces []int64
	for rows.Next() {
		var ws int64
		if err := rows.Scan(&ws); err != nil {
			rows.Close()
			return 0, err
		}
		workspaces = append(workspaces, ws)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	total := 0
	for _, ws := range workspaces {
		// Each round reads on from the last pending id it took, so that it
		// does not step again over the deleted rows before it (PostgreSQL
		// keeps them in the index until vacuumed). An entry committed late
		// with a lower pending id is not lost: the next Seal starts over.
		var after int64
		for {
			n, last, err := s.sealRound(ctx, origin, ws, after)
			total += n
			if err != nil {
				return total, fmt.Errorf("seal workspace %d: %w", ws, err)
			}
			if n < sealBatch {
				break
			}
			after = last
		}
	}
	return total, nil
}

// SealEvery seals every interval until ctx ends, logging failures.
func (s *Sealer) SealEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.Seal(ctx); err != nil && ctx.Err() == nil && s.Logger != nil {
			s.Logger.ErrorContext(ctx, "ledger sealing", "err", err)
		}
	}
}

type pendingEntry struct {
	id, entryID int64
	log         Log
}

// sealRound seals up to sealBatch pending entries of workspace ws with ids
// above after: their leaves, the tree's new stored hashes and a signed
// checkpoint, and takes them off the pending list. It reports how many it
// sealed and the last pending id it took.
//
// Everything it reads is committed and never changes (entries, pending
// rows, the tree so far), so it reads and hashes outside the write
// transaction, which on SQLite holds the one writer every request waits
// for; the transaction only writes, after checking that no other sealer
// has grown the tree or taken the entries meanwhile.
func (s *Sealer) sealRound(ctx context.Context, origin string, ws, after int64) (sealed int, last int64, err error) {
	q := s.DB.Read()
	pending, err := readPending(ctx, q, ws, after)
	if err != nil || len(pending) == 0 {
		return 0, after, err
	}
	byLog := map[Log][]int64{}
	for _, p := range pending {
		byLog[p.log] = append(byLog[p.log], p.entryID)
	}
	data := map[Log]map[int64][]byte{}
	for log, ids := range byLog {
		if !log.Valid() {
			return 0, after, fmt.Errorf("pending entry of unknown log %q", log)
		}
		if data[log], err = readEntries(ctx, q, s.DB, ws, log, ids); err != nil {
			return 0, after, err
		}
	}
	size, err := treeSize(ctx, q, ws)
	if err != nil {
		return 0, after, err
	}
	hs := &hashStore{ctx: ctx, q: q, on: s.DB, ws: ws, fresh: make(map[int64]tlog.Hash, 2*len(pending)+64)}
	leaves := make([]newLeaf, 0, len(pending))
	hashes := make([]newHash, 0, 2*len(pending)+64)
	done := make([]int64, 0, len(pending))
	for i, p := range pending {
		d, ok := data[p.log][p.entryID]
		if !ok {
			return 0, after, fmt.Errorf("%s entry %d is pending but not in the log", p.log, p.entryID)
		}
		seq := size + int64(i)
		leaf := LeafHash(d)
		// tlog.StoredHashes would hash the entry again; this takes the
		// leaf hash.
		stored, err := tlog.StoredHashesForRecordHash(seq, leaf, hs)
		if err != nil {
			return 0, after, fmt.Errorf("tree hashes for %d: %w", seq, err)
		}
		base := tlog.StoredHashIndex(0, seq)
		for j, h := range stored {
			hs.fresh[base+int64(j)] = h
			hashes = append(hashes, newHash{base + int64(j), h})
		}
		leaves = append(leaves, newLeaf{seq, p.log, p.entryID, leaf})
		done = append(done, p.id)
	}
	newSize := size + int64(len(pending))
	root, err := tlog.TreeHash(newSize, hs)
	if err != nil {
		return 0, after, fmt.Errorf("tree hash: %w", err)
	}
	noteText, err := note.Sign(&note.Note{Text: checkpointBody(WorkspaceOrigin(origin, ws), newSize, root)}, s.Key.signer)
	if err != nil {
		return 0, after, fmt.Errorf("sign checkpoint: %w", err)
	}
	now := store.Micros(time.Now())
	err = s.DB.InTx(store.WithoutBeforeCommit(ctx), func(tx *store.Tx) error {
		// Another sealer (a node that lost its election a moment ago) may
		// have sealed since the reads above: then this round is void. A
		// race past this check still fails on the leaves' primary key.
		if current, err := treeSize(ctx, tx, ws); err != nil {
			return err
		} else if current != size {
			return fmt.Errorf("the tree grew from %d to %d leaves while this round was prepared", size, current)
		}
		if err := insertLeaves(ctx, tx, ws, now, leaves); err != nil {
			return fmt.Errorf("store leaves: %w", err)
		}
		if err := insertHashes(ctx, tx, ws, hashes); err != nil {
			return fmt.Errorf("store tree hashes: %w", err)
		}
		w := store.NewWhere("workspace_id = ?", ws).And(store.In(tx, "id", done))
		res, err := tx.ExecContext(ctx, `DELETE FROM ledger_pending WHERE `+w.String(), w.Args...)
		if err != nil {
			return fmt.Errorf("take sealed entries off the pending list: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(done)) {
			return fmt.Errorf("took %d of %d sealed entries off the pending list (%v): sealed by another sealer meanwhile?", n, len(done), err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_checkpoints (workspace_id, size, root_hash, note, signed_at) VALUES ($1, $2, $3, $4, $5)`,
			ws, newSize, root[:], string(noteText), now); err != nil {
			return fmt.Errorf("store checkpoint: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, after, err
	}
	sealed, last = len(pending), pending[len(pending)-1].id
	if s.CheckpointLog != "" {
		if err := appendCheckpoint(s.CheckpointLog, noteText); err != nil {
			return sealed, last, err
		}
	}
	if s.OnCheckpoint != nil {
		s.OnCheckpoint(ws, noteText)
	}
	return sealed, last, nil
}

// readPending returns up to sealBatch pending entries of workspace ws with
// ids above after, in id order.
func readPending(ctx context.Context, q store.Querier, ws, after int64) ([]pendingEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, log, entry_id FROM ledger_pending WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		ws, after, sealBatch)
	if err != nil {
		return nil, fmt.Errorf("read pending entries: %w", err)
	}
	defer rows.Close()
	var pending []pendingEntry
	for rows.Next() {
		var p pendingEntry
		if err := rows.Scan(&p.id, &p.log, &p.entryID); err != nil {
			return nil, err
		}
		pending = append(pending, p)
	}
	return pending, rows.Err()
}

// appendCheckpoint appends a signed checkpoint to the file outside the
// database, each followed by an empty line as signed notes are separated.
func appendCheckpoint(path string, signed []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("checkpoint log: %w", err)
	}
	if _, err := f.Write(append(append([]byte(nil), signed...), '\n')); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint log: %w", err)
	}
	return f.Close()
}

// installOrigin is the install's name in checkpoint origins, made on first
// use ("stocktrail/<16 hex digits>").
func installOrigin(ctx context.Context, db *store.DB) (string, error) {
	var origin string
	err := db.Read().QueryRowContext(ctx, `SELECT origin FROM ledger_install WHERE id = 1`).Scan(&origin)
	if err == nil {
		return origin, nil
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	if _, err := db.Exec(ctx, `INSERT INTO ledger_install (id, origin) SELECT 1, $1 WHERE NOT EXISTS (SELECT 1 FROM ledger_install)`,
		"stocktrail/"+hex.EncodeToString(b[:])); err != nil {
		return "", fmt.Errorf("name the install: %w", err)
	}
	if err := db.Read().QueryRowContext(ctx, `SELECT origin FROM ledger_install WHERE id = 1`).Scan(&origin); err != nil {
		return "", fmt.Errorf("install origin: %w", err)
	}
	return origin, nil
}

// WorkspaceOrigin is the origin line of a workspace's checkpoints.
func WorkspaceOrigin(install string, ws int64) string {
	return install + "/workspace/" + strconv.FormatInt(ws, 10)
}

func encodeHash(h [32]byte) string { return base64.StdEncoding.EncodeToString(h[:]) }

// ParsedCheckpoint is a checkpoint body read back.
type ParsedCheckpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// ParseCheckpoint reads a C2SP tlog-checkpoint body (the note's text).
func ParseCheckpoint(text string) (ParsedCheckpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		return ParsedCheckpoint{}, errors.New("a checkpoint has an origin, a size and a root hash line")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return ParsedCheckpoint{}, fmt.Errorf("checkpoint size %q", lines[1])
	}
	b, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(b) != tlog.HashSize {
		return ParsedCheckpoint{}, fmt.Errorf("checkpoint root hash %q", lines[2])
	}
	var c ParsedCheckpoint
	c.Origin, c.Size = lines[0], size
	copy(c.Root[:], b)
	return c, nil
}
