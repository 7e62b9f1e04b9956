package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/store"
)

// VerifyOptions say what Verify checks and against what.
type VerifyOptions struct {
	// Workspace limits the check to one workspace; 0 checks every one.
	Workspace int64
	// Keys are pinned verifier keys, kept by the auditor outside the
	// database. When empty, the keys registered in ledger_keys are used:
	// that catches edits made without the signing key, but whoever can
	// rewrite the database can also register a key of their own, so only
	// pinned keys prove anything to an outsider.
	Keys []string
	// Checkpoints are signed checkpoints kept outside the database (the
	// sealer's checkpoint log, see ParseCheckpointLog). Each must verify,
	// be no larger than the tree and match its root at its size: deleting
	// the newest entries together with their leaves and checkpoints is
	// detected only this way.
	Checkpoints [][]byte
	// Since makes the check incremental: for each workspace listed, the
	// tree size an earlier check verified (Report.Sizes); only the leaves
	// from there on, the checkpoints larger than it and the entries written
	// since are checked. Workspaces not listed are checked whole.
	Since map[int64]int64
	// Batch is how many leaves are read at a time (default 5000).
	Batch int
}

// Problem is one thing that does not hold, named as precisely as it can be.
type Problem struct {
	Workspace int64
	// Log and EntryID name the entry, when the problem is about one.
	Log     Log
	EntryID int64
	// Seq is the leaf's place in the tree, -1 when the problem is not about
	// one leaf.
	Seq  int64
	What string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Workspace != 0 {
		fmt.Fprintf(&b, "workspace %d: ", p.Workspace)
	}
	switch {
	case p.Log != "" && p.EntryID != 0:
		fmt.Fprintf(&b, "%s entry %d", p.Log, p.EntryID)
		if p.Seq >= 0 {
			fmt.Fprintf(&b, " (seq %d)", p.Seq)
		}
		b.WriteString(": ")
	case p.Seq >= 0:
		fmt.Fprintf(&b, "seq %d: ", p.Seq)
	}
	b.WriteString(p.What)
	return b.String()
}

// Report is what Verify found.
type Report struct {
	Workspaces int
	// Entries is how many sealed entries were read back and matched against
	// their leaves; Checkpoints how many stored checkpoints were checked,
	// OutsideCheckpoints how many of VerifyOptions.Checkpoints.
	Entries            int64
	Checkpoints        int64
	OutsideCheckpoints int64
	// KeysPinned says whether the signatures were checked against pinned
	// keys (VerifyOptions.Keys) or only against the keys the database
	// registers.
	KeysPinned bool
	// Sizes is each checked workspace's tree size, for the next incremental
	// check (VerifyOptions.Since).
	Sizes map[int64]int64
	// Purged is, per workspace, what retention has purged (their leaf
	// hashes stay): activity events at or below UpToSeq that the purge
	// records (ledger_purges) account for are reported as purged, not as
	// deleted. A full check counts them; an incremental one only reads the
	// records.
	Purged map[int64]Purged
	// Problems in the order found: per workspace the triggers, then the
	// leaves in sequence order, then the checkpoints.
	Problems []Problem
}

// OK reports whether everything checked holds.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Summary is one line: whether the ledger holds, what was checked, and the
// first problem.
func (r Report) Summary() string {
	keys := "registered keys (not pinned: pass --key to prove it to an outsider)"
	if r.KeysPinned {
		keys = "pinned keys"
	}
	checked := fmt.Sprintf("%d workspaces, %d entries, %d checkpoints (%d kept outside), signatures against %s",
		r.Workspaces, r.Entries, r.Checkpoints, r.OutsideCheckpoints, keys)
	if p := r.PurgedLine(); p != "" {
		checked += "; " + p
	}
	if r.OK() {
		return "OK: ledger verified: " + checked
	}
	return fmt.Sprintf("FAILED: %d problems, first: %s; checked %s", len(r.Problems), r.Problems[0], checked)
}

// Purged is what retention purged in one workspace.
type Purged struct {
	// Entries is how many purged entries the check found missing (a full
	// check), or the purge records' total (an incremental one).
	Entries int64
	// UpToSeq is the largest sequence number a purge covered.
	UpToSeq int64
}

// PurgedLine says what retention purged, one clause per workspace:
// "workspace 1: 1200 entries purged by retention up to sequence 4711".
func (r Report) PurgedLine() string {
	var ws []int64
	for id, p := range r.Purged {
		if p.Entries > 0 {
			ws = append(ws, id)
		}
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i] < ws[j] })
	var parts []string
	for _, id := range ws {
		p := r.Purged[id]
		parts = append(parts, fmt.Sprintf("workspace %d: %d entries purged by retention up to sequence %d", id, p.Entries, p.UpToSeq))
	}
	return strings.Join(parts, ", ")
}

// VerifySince checks only what was sealed since an earlier check (sizes
// from its Report.Sizes), with the registered keys: cheap enough for the
// server to run every few minutes.
func VerifySince(ctx context.Context, db *store.DB, since map[int64]int64) (Report, error) {
	return Verify(ctx, db, VerifyOptions{Since: since})
}

// appendOnlyTables are the tables whose guards Verify requires.
var appendOnlyTables = []string{string(InventoryLog), string(ActivityEvents), "ledger_leaves", "ledger_hashes", "ledger_checkpoints", "ledger_purges"}

// Verify checks the ledger of a live database: every sealed entry against
// its leaf hash, the tree recomputed from the leaves against every stored
// checkpoint (and its signature) and against the checkpoints kept outside,
// that every entry is either sealed or pending, that the sequence numbers
// are contiguous, and that the append-only and pending triggers are in
// place. It reads the leaves in ranges, so its memory does not grow with
// the ledger. It is the install's own check (command line, server): it
// takes no actor and reports ids and sequence numbers, never contents.
func Verify(ctx context.Context, db *store.DB, opts VerifyOptions) (Report, error) {
	r := Report{Sizes: map[int64]int64{}, Purged: map[int64]Purged{}}
	if opts.Batch <= 0 {
		opts.Batch = 5000
	}
	v := &verifier{ctx: ctx, db: db, q: db.Read(), opts: opts, r: &r}
	keys := opts.Keys
	r.KeysPinned = len(keys) > 0
	if !r.KeysPinned {
		registered, err := verifierKeys(ctx, v.q)
		if err != nil {
			return r, err
		}
		for _, k := range registered {
			keys = append(keys, k.Key)
		}
	}
	var err error
	if v.keys, err = verifiers(keys); err != nil {
		return r, err
	}
	if err := v.triggers(); err != nil {
		return r, err
	}
	err = v.q.QueryRowContext(ctx, `SELECT origin FROM ledger_install WHERE id = 1`).Scan(&v.install)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("install origin: %w", err)
	}
	outside, err := v.outsideCheckpoints()
	if err != nil {
		return r, err
	}
	workspaces, err := v.workspaces()
	if err != nil {
		return r, err
	}
	for _, ws := range workspaces {
		r.Workspaces++
		if err := v.workspace(ws, outside[ws]); err != nil {
			return r, fmt.Errorf("verify workspace %d: %w", ws, err)
		}
	}
	return r, nil
}

type verifier struct {
	ctx     context.Context
	db      *store.DB
	q       store.Querier
	opts    VerifyOptions
	r       *Report
	keys    note.Verifiers
	install string
}

func (v *verifier) problem(p Problem) { v.r.Problems = append(v.r.Problems, p) }

// triggers reports every guard that is missing or disabled.
func (v *verifier) triggers() error {
	missing, err := v.db.AppendOnlyTriggers(v.ctx, appendOnlyTables)
	if err != nil {
		return err
	}
	for _, name := range missing {
		v.problem(Problem{Seq: -1, What: fmt.Sprintf("trigger %s is missing or disabled: its table can be rewritten", name)})
	}
	for _, log := range Logs {
		missing, err := v.db.MissingTriggers(v.ctx, string(log), "ledger_pending_"+string(log))
		if err != nil {
			return err
		}
		for _, name := range missing {
			v.problem(Problem{Seq: -1, What: fmt.Sprintf("trigger %s is missing or disabled: new %s entries are not sealed", name, log)})
		}
	}
	return nil
}

func (v *verifier) workspaces() ([]int64, error) {
	if v.opts.Workspace != 0 {
		return []int64{v.opts.Workspace}, nil
	}
	rows, err := v.q.QueryContext(v.ctx, `SELECT id FROM workspaces UNION SELECT workspace_id FROM ledger_checkpoints ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("workspaces: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var ws int64
		if err := rows.Scan(&ws); err != nil {
			return nil, err
		}
		out = append(out, ws)
	}
	return out, rows.Err()
}

// signedCheckpoint is a checkpoint to hold against the recomputed tree.
type signedCheckpoint struct {
	size int64
	root tlog.Hash
	// text is a stored checkpoint's signed note; outside ones were opened
	// when read.
	text    string
	outside bool
}

// outsideCheckpoints verifies the checkpoints kept outside and sorts them
// by workspace, each list by size.
func (v *verifier) outsideCheckpoints() (map[int64][]signedCheckpoint, error) {
	out := map[int64][]signedCheckpoint{}
	for i, text := range v.opts.Checkpoints {
		name := fmt.Sprintf("checkpoint %d kept outside", i+1)
		n, err := note.Open(text, v.keys)
		if err != nil {
			v.problem(Problem{Workspace: noteWorkspace(text), Seq: -1, What: name + ": " + signatureProblem(err, v.r.KeysPinned)})
			continue
		}
		c, err := ParseCheckpoint(n.Text)
		if err != nil {
			v.problem(Problem{Seq: -1, What: name + ": " + err.Error()})
			continue
		}
		ws, ok := originWorkspace(v.install, c.Origin)
		if !ok {
			v.problem(Problem{Seq: -1, What: fmt.Sprintf("%s is for %q, not a workspace of this install (%s)", name, c.Origin, v.install)})
			continue
		}
		if v.opts.Workspace != 0 && ws != v.opts.Workspace {
			continue
		}
		if since, ok := v.opts.Since[ws]; ok && c.Size <= since {
			continue
		}
		v.r.OutsideCheckpoints++
		out[ws] = append(out[ws], signedCheckpoint{size: c.Size, root: c.Root, outside: true})
	}
	for _, list := range out {
		sort.Slice(list, func(i, j int) bool { return list[i].size < list[j].size })
	}
	return out, nil
}

// signatureProblem says why a checkpoint's note did not open.
func signatureProblem(err error, pinned bool) string {
	keys := "the registered keys"
	if pinned {
		keys = "the pinned keys"
	}
	var unknown *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unknown):
		return "not signed by any of " + keys + " (signed by a key that is not ours, or its signature line was altered)"
	case errors.As(err, &invalid):
		return fmt.Sprintf("the signature by %s does not verify: the checkpoint or its signature was altered", invalid.Name)
	}
	return "not a signed note: " + err.Error()
}

// noteWorkspace reads the workspace from a note's origin line without
// checking its signature, to say whose checkpoint failed (0 if unreadable).
func noteWorkspace(text []byte) int64 {
	first, _, _ := bytes.Cut(text, []byte("\n"))
	i := bytes.LastIndex(first, []byte("/workspace/"))
	if i < 0 {
		return 0
	}
	ws, _ := strconv.ParseInt(string(first[i+len("/workspace/"):]), 10, 64)
	return ws
}

// originWorkspace returns the workspace an origin line names, if it is one
// of install's.
func originWorkspace(install, origin string) (int64, bool) {
	rest, ok := strings.CutPrefix(origin, install+"/workspace/")
	if !ok || install == "" {
		return 0, false
	}
	ws, err := strconv.ParseInt(rest, 10, 64)
	return ws, err == nil && WorkspaceOrigin(install, ws) == origin
}

// ParseCheckpointLog splits a checkpoint log (signed notes, each followed
// by a blank line, as the sealer appends them) into its notes.
func ParseCheckpointLog(data []byte) ([][]byte, error) {
	var notes [][]byte
	lines := bytes.SplitAfter(data, []byte("\n"))
	start, inSignatures := 0, false
	pos := 0
	for i, line := range lines {
		if len(line) == 0 {
			break // after the last newline
		}
		blank := len(bytes.TrimSpace(line)) == 0
		switch {
		case blank && !inSignatures && pos > start:
			inSignatures = true // the blank line between text and signatures
		case blank && inSignatures:
			notes = append(notes, data[start:pos])
			start, inSignatures = pos+len(line), false
		case blank:
			start = pos + len(line) // blank lines between notes
		case inSignatures && !bytes.HasPrefix(line, []byte("— ")):
			return nil, fmt.Errorf("checkpoint log line %d: expected a signature line", i+1)
		}
		pos += len(line)
	}
	if inSignatures {
		notes = append(notes, data[start:])
	} else if start < len(data) {
		return nil, errors.New("checkpoint log ends inside a checkpoint without signatures")
	}
	return notes, nil
}

// purgeRecords sums a workspace's purge records (ledger_purges, written by
// the retention purge in the transaction of each delete): how many activity
// events were purged and the largest sequence number a purge covered.
func (v *verifier) purgeRecords(ws int64) (purgeTotals, error) {
	var t purgeTotals
	err := v.q.QueryRowContext(v.ctx, `SELECT COALESCE(MAX(up_to_seq), -1), COALESCE(SUM(entry_count), 0), COUNT(*) FROM ledger_purges WHERE workspace_id = $1`, ws).
		Scan(&t.upToSeq, &t.entries, &t.records)
	if err != nil {
		return t, fmt.Errorf("purge records: %w", err)
	}
	return t, nil
}

type purgeTotals struct{ upToSeq, entries, records int64 }

// purgeTally follows the missing activity events of one full check against
// the purge records: each must lie at or below a purged sequence, and
// together they must be what the records count.
type purgeTally struct {
	at     purgeTotals // read before the leaves
	found  int64       // missing events covered by at
	maxSeq int64
	// late are missing events beyond at.upToSeq: a purge that committed
	// during the check, or deletions without a record. Decided at the end.
	late []leafRow
}

// leafRow is one row of ledger_leaves.
type leafRow struct {
	seq, entryID int64
	log          Log
	hash         tlog.Hash
}

// workspace checks one workspace's leaves, entries and checkpoints.
func (v *verifier) workspace(ws int64, outside []signedCheckpoint) error {
	size, err := treeSize(v.ctx, v.q, ws)
	if err != nil {
		return err
	}
	// Fixed now: the sealer may go on while this runs; what it adds is
	// checked next time.
	v.r.Sizes[ws] = size
	start := v.opts.Since[ws]
	if start > size {
		v.problem(Problem{Workspace: ws, Seq: size, What: fmt.Sprintf("an earlier check saw %d leaves, the tree now holds %d: leaves were deleted", start, size)})
		start = 0
	}
	records, err := v.purgeRecords(ws)
	if err != nil {
		return err
	}
	tally := &purgeTally{at: records, maxSeq: -1}
	if err := v.checkpointsBeyond(ws); err != nil {
		return err
	}
	fold, err := v.foldAt(ws, start)
	if err != nil {
		return err
	}
	stored := &checkpointStream{v: v, ws: ws, after: start, upTo: size, batch: v.opts.Batch}
	var pendingOutside []signedCheckpoint
	for _, c := range outside {
		if c.size > size {
			v.problem(Problem{Workspace: ws, Seq: size, What: fmt.Sprintf("a checkpoint kept outside says the tree held %d entries, it holds %d: entries from seq %d on were deleted", c.size, size, size)})
			continue
		}
		pendingOutside = append(pendingOutside, c)
	}
	// checkAt compares every checkpoint of the fold's size with its root;
	// lastGood is the largest size whose checkpoints all held, to name the
	// range of leaves a failing one covers.
	lastGood := start
	checkAt := func() error {
		for {
			c, ok, err := stored.peek()
			if err != nil {
				return err
			}
			if !ok || c.size != fold.size {
				break
			}
			stored.next()
			v.checkRoot(ws, c, fold, &lastGood)
		}
		for len(pendingOutside) > 0 && pendingOutside[0].size == fold.size {
			v.checkRoot(ws, pendingOutside[0], fold, &lastGood)
			pendingOutside = pendingOutside[1:]
		}
		return nil
	}
	if err := checkAt(); err != nil {
		return err
	}
	next := start
	for next < size {
		leaves, err := v.readLeaves(ws, next, size)
		if err != nil {
			return err
		}
		if len(leaves) == 0 {
			v.problem(Problem{Workspace: ws, Seq: next, What: fmt.Sprintf("leaves %d to %d are missing (deleted leaf rows)", next, size-1)})
			break
		}
		if err := v.checkEntries(ws, leaves, tally); err != nil {
			return err
		}
		for _, l := range leaves {
			if l.seq != next {
				v.problem(Problem{Workspace: ws, Seq: next, What: fmt.Sprintf("leaves %d to %d are missing (deleted leaf rows)", next, l.seq-1)})
				// The tree cannot be recomputed past a gap.
				if err := v.settlePurges(ws, start, tally); err != nil {
					return err
				}
				return v.orphans(ws, start)
			}
			fold.add(l.hash)
			next++
			if err := checkAt(); err != nil {
				return err
			}
		}
	}
	// Stored checkpoints of sizes with no leaf row behind them.
	for {
		c, ok, err := stored.peek()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		stored.next()
		v.problem(Problem{Workspace: ws, Seq: -1, What: fmt.Sprintf("stored checkpoint of size %d does not match any size of the recomputed tree", c.size)})
	}
	if next == size && size > 0 {
		hs := &hashStore{ctx: v.ctx, q: v.q, on: v.db, ws: ws}
		if root, err := tlog.TreeHash(size, hs); err != nil || root != fold.root() {
			what := "the stored tree hashes (ledger_hashes) do not add up to the leaves: proofs served from them will not check"
			if err != nil {
				what = "the stored tree hashes (ledger_hashes) are incomplete: " + err.Error()
			}
			v.problem(Problem{Workspace: ws, Seq: -1, What: what})
		}
	}
	if err := v.settlePurges(ws, start, tally); err != nil {
		return err
	}
	return v.orphans(ws, start)
}

// settlePurges decides the missing activity events the leaf walk could not
// place, and holds the purged count against the purge records. Records are
// read again at the end: a purge that committed during the walk explains
// events missing beyond the first reading, and may have deleted events the
// walk had already seen (so then the count may fall short, never exceed).
func (v *verifier) settlePurges(ws, start int64, t *purgeTally) error {
	end, err := v.purgeRecords(ws)
	if err != nil {
		return err
	}
	for _, l := range t.late {
		if l.seq <= end.upToSeq {
			t.found++
			t.maxSeq = max(t.maxSeq, l.seq)
			continue
		}
		v.problem(Problem{Workspace: ws, Log: l.log, EntryID: l.entryID, Seq: l.seq,
			What: "the entry is gone: deleted after it was sealed, and no retention purge covers it"})
	}
	if start > 0 {
		// An incremental check does not walk the purged leaves.
		if end.entries > 0 {
			v.r.Purged[ws] = Purged{Entries: end.entries, UpToSeq: end.upToSeq}
		}
		return nil
	}
	switch {
	case t.found > end.entries, end == t.at && t.found != end.entries:
		v.problem(Problem{Workspace: ws, Log: ActivityEvents, Seq: -1, What: fmt.Sprintf(
			"%d activity events are missing at or below sequence %d, but the retention purge records account for %d: events were deleted outside the purge",
			t.found, end.upToSeq, end.entries)})
	}
	if t.found > 0 {
		v.r.Purged[ws] = Purged{Entries: t.found, UpToSeq: end.upToSeq}
	}
	return nil
}

// checkpointsBeyond reports a stored checkpoint larger than the tree: its
// newest leaf rows were deleted. The tree size is read after the
// checkpoint, so a round sealed meanwhile (leaves and checkpoint commit
// together) is not mistaken for one.
func (v *verifier) checkpointsBeyond(ws int64) error {
	var largest int64
	err := v.q.QueryRowContext(v.ctx, `SELECT size FROM ledger_checkpoints WHERE workspace_id = $1 ORDER BY size DESC LIMIT 1`, ws).Scan(&largest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("largest checkpoint: %w", err)
	}
	size, err := treeSize(v.ctx, v.q, ws)
	if err != nil {
		return err
	}
	if largest > size {
		v.problem(Problem{Workspace: ws, Seq: size, What: fmt.Sprintf("a stored checkpoint says the tree held %d entries, it holds %d: leaves from seq %d on were deleted", largest, size, size)})
	}
	return nil
}

// checkRoot holds one checkpoint (stored or kept outside) against the
// recomputed tree of its size; a stored one's signature and body too.
func (v *verifier) checkRoot(ws int64, c signedCheckpoint, fold *treeFold, lastGood *int64) {
	ok := true
	if !c.outside {
		v.r.Checkpoints++
		ok = v.checkNote(ws, c)
	}
	if c.root != fold.root() {
		ok = false
		where := "stored checkpoint"
		if c.outside {
			where = "checkpoint kept outside"
		}
		v.problem(Problem{Workspace: ws, Seq: *lastGood, What: fmt.Sprintf("the %s of size %d does not match the tree recomputed from the leaves: a leaf between seq %d and %d was changed, swapped or replaced",
			where, c.size, *lastGood, c.size-1)})
	}
	if ok {
		*lastGood = c.size
	}
}

// checkNote checks a stored checkpoint's signature and that its body says
// what its row does.
func (v *verifier) checkNote(ws int64, c signedCheckpoint) bool {
	n, err := note.Open([]byte(c.text), v.keys)
	name := fmt.Sprintf("stored checkpoint of size %d", c.size)
	if err != nil {
		v.problem(Problem{Workspace: ws, Seq: -1, What: name + ": " + signatureProblem(err, v.r.KeysPinned)})
		return false
	}
	body, err := ParseCheckpoint(n.Text)
	switch {
	case err != nil:
		v.problem(Problem{Workspace: ws, Seq: -1, What: name + ": " + err.Error()})
	case body.Origin != WorkspaceOrigin(v.install, ws):
		v.problem(Problem{Workspace: ws, Seq: -1, What: fmt.Sprintf("%s is signed for %q, not this workspace", name, body.Origin)})
	case body.Size != c.size || body.Root != c.root:
		v.problem(Problem{Workspace: ws, Seq: -1, What: name + ": its row's size or root hash differs from the signed note's"})
	default:
		return true
	}
	return false
}

// readLeaves reads the next batch of leaves from seq from on, below upTo.
func (v *verifier) readLeaves(ws, from, upTo int64) ([]leafRow, error) {
	rows, err := v.q.QueryContext(v.ctx, `SELECT seq, log, entry_id, leaf_hash FROM ledger_leaves
		WHERE workspace_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq LIMIT $4`, ws, from, upTo, v.opts.Batch)
	if err != nil {
		return nil, fmt.Errorf("read leaves: %w", err)
	}
	defer rows.Close()
	out := make([]leafRow, 0, v.opts.Batch)
	for rows.Next() {
		var l leafRow
		var h []byte
		if err := rows.Scan(&l.seq, &l.log, &l.entryID, &h); err != nil {
			return nil, err
		}
		if len(h) != tlog.HashSize {
			v.problem(Problem{Workspace: ws, Log: l.log, EntryID: l.entryID, Seq: l.seq, What: fmt.Sprintf("leaf hash is %d bytes", len(h))})
		}
		copy(l.hash[:], h)
		out = append(out, l)
	}
	return out, rows.Err()
}

// checkEntries reads the entries of a batch of leaves back and compares
// their leaf hashes.
func (v *verifier) checkEntries(ws int64, leaves []leafRow, purged *purgeTally) error {
	byLog := map[Log][]int64{}
	for _, l := range leaves {
		if l.log.Valid() {
			byLog[l.log] = append(byLog[l.log], l.entryID)
		}
	}
	data := map[Log]map[int64][]byte{}
	for log, ids := range byLog {
		var err error
		if data[log], err = readEntries(v.ctx, v.q, v.db, ws, log, ids); err != nil {
			return err
		}
	}
	for _, l := range leaves {
		p := Problem{Workspace: ws, Log: l.log, EntryID: l.entryID, Seq: l.seq}
		if !l.log.Valid() {
			p.What = fmt.Sprintf("leaf of unknown log %q", l.log)
			v.problem(p)
			continue
		}
		d, ok := data[l.log][l.entryID]
		switch {
		case !ok && l.log == ActivityEvents && l.seq <= purged.at.upToSeq:
			// Purged by retention: the leaf hash alone carries the tree.
			purged.found++
			purged.maxSeq = max(purged.maxSeq, l.seq)
		case !ok && l.log == ActivityEvents:
			// Perhaps purged while this check ran: decided at the end.
			purged.late = append(purged.late, l)
		case !ok:
			p.What = "the entry is gone: deleted after it was sealed"
			v.problem(p)
		case LeafHash(d) != l.hash:
			p.What = "the entry does not match its sealed leaf hash: a field was changed after sealing"
			v.problem(p)
		default:
			v.r.Entries++
		}
	}
	return nil
}

// maxOrphans bounds how many unlisted entries of one log are named.
const maxOrphans = 100

// orphans names the entries that are neither sealed nor pending: written
// with the pending trigger off, so they would never be sealed. An
// incremental check looks only at entries newer than every entry sealed
// before its start (any row inserted since has a larger id).
func (v *verifier) orphans(ws, start int64) error {
	for _, log := range Logs {
		var floor int64
		if start > 0 {
			err := v.q.QueryRowContext(v.ctx, `SELECT entry_id FROM ledger_leaves WHERE workspace_id = $1 AND log = $2 AND seq < $3
				ORDER BY entry_id DESC LIMIT 1`, ws, string(log), start).Scan(&floor)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("incremental floor: %w", err)
			}
		}
		rows, err := v.q.QueryContext(v.ctx, `SELECT e.id FROM `+string(log)+` e
			WHERE e.workspace_id = $1 AND e.id > $2
			AND NOT EXISTS (SELECT 1 FROM ledger_leaves l WHERE l.workspace_id = e.workspace_id AND l.log = $3 AND l.entry_id = e.id)
			AND NOT EXISTS (SELECT 1 FROM ledger_pending p WHERE p.workspace_id = e.workspace_id AND p.log = $3 AND p.entry_id = e.id)
			ORDER BY e.id LIMIT $4`, ws, floor, string(log), maxOrphans+1)
		if err != nil {
			return fmt.Errorf("unsealed %s entries: %w", log, err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, id := range ids {
			if i == maxOrphans {
				v.problem(Problem{Workspace: ws, Log: log, Seq: -1, What: "and more entries in no list"})
				break
			}
			v.problem(Problem{Workspace: ws, Log: log, EntryID: id, Seq: -1,
				What: "the entry is neither sealed nor pending: it was inserted past the ledger's trigger (forged)"})
		}
	}
	return nil
}

// foldAt starts the recomputed tree at size n, from the stored hashes of
// its complete subtrees (an incremental check trusts what the last one
// verified, and every later checkpoint's root depends on them).
func (v *verifier) foldAt(ws, n int64) (*treeFold, error) {
	f := &treeFold{}
	if n == 0 {
		return f, nil
	}
	var indexes []int64
	var offset int64
	for level := 62; level >= 0; level-- {
		if n&(1<<level) != 0 {
			indexes = append(indexes, tlog.StoredHashIndex(level, offset>>level))
			offset += 1 << level
		}
	}
	hs := &hashStore{ctx: v.ctx, q: v.q, on: v.db, ws: ws}
	hashes, err := hs.ReadHashes(indexes)
	if err != nil {
		return nil, err
	}
	f.size, f.stack = n, hashes
	return f, nil
}

// treeFold computes RFC 6962 tree hashes from leaf hashes added in order,
// keeping only the roots of the complete subtrees so far (largest first,
// at most 63), so a tree of any size is recomputed in constant memory.
type treeFold struct {
	size  int64
	stack []tlog.Hash
}

func (f *treeFold) add(leaf tlog.Hash) {
	f.stack = append(f.stack, leaf)
	// Each trailing one bit of the old size is a subtree the new leaf
	// completes.
	for n := f.size; n&1 == 1; n >>= 1 {
		k := len(f.stack)
		f.stack[k-2] = tlog.NodeHash(f.stack[k-2], f.stack[k-1])
		f.stack = f.stack[:k-1]
	}
	f.size++
}

// root is the tree hash at the current size (tlog.TreeHash's).
func (f *treeFold) root() tlog.Hash {
	if len(f.stack) == 0 {
		return tlog.Hash{}
	}
	h := f.stack[len(f.stack)-1]
	for i := len(f.stack) - 2; i >= 0; i-- {
		h = tlog.NodeHash(f.stack[i], h)
	}
	return h
}

// checkpointStream reads a workspace's stored checkpoints in size order,
// a batch at a time.
type checkpointStream struct {
	v           *verifier
	ws          int64
	after, upTo int64
	batch       int
	buf         []signedCheckpoint
	done        bool
}

func (s *checkpointStream) peek() (signedCheckpoint, bool, error) {
	if len(s.buf) == 0 && !s.done {
		rows, err := s.v.q.QueryContext(s.v.ctx, `SELECT size, root_hash, note FROM ledger_checkpoints
			WHERE workspace_id = $1 AND size > $2 AND size <= $3 ORDER BY size LIMIT $4`, s.ws, s.after, s.upTo, s.batch)
		if err != nil {
			return signedCheckpoint{}, false, fmt.Errorf("read checkpoints: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c signedCheckpoint
			var root []byte
			if err := rows.Scan(&c.size, &root, &c.text); err != nil {
				return signedCheckpoint{}, false, err
			}
			copy(c.root[:], root)
			s.buf = append(s.buf, c)
			s.after = c.size
		}
		if err := rows.Err(); err != nil {
			return signedCheckpoint{}, false, err
		}
		s.done = len(s.buf) < s.batch
	}
	if len(s.buf) == 0 {
		return signedCheckpoint{}, false, nil
	}
	return s.buf[0], true, nil
}

func (s *checkpointStream) next() { s.buf = s.buf[1:] }
