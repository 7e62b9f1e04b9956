package ledger

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// A bundle is a self-describing file an auditor verifies offline with
// VerifyBundle (stocktrail verify --bundle) and a pinned verifier key: no
// database, no server. It is JSON lines (docs/ledger.md, "Verification"):
//
//	{"format":"stocktrail-ledger-bundle/v1","selection":"all","workspace":1,"checkpoint":"<signed note>","verifier_keys":["…"]}
//	{"seq":0,"entry":{"v":"stocktrail-leaf-v1","log":"activity_events",…}}
//	{"seq":7,"proof":["<base64 hash>",…],"entry":{…}}
//	{"seq":8,"purged":"<base64 leaf hash>"}
//	{"end":3,"unsealed":0}
//
// The header carries the workspace's latest signed checkpoint and the keys
// the install says signed it (informational: only a pinned key proves
// anything). Each entry line carries the entry's canonical form verbatim
// (its leaf hash is tlog.RecordHash of exactly those bytes), its sequence
// number and, in a selection of entries, its RFC 6962 inclusion proof
// against the checkpoint. A whole-ledger bundle ("selection":"all") holds
// every leaf in sequence order without proofs: verification recomputes the
// root. An activity event purged by retention appears in a whole-ledger
// bundle as its leaf hash alone ("purged"), so the root still adds up, and
// is left out of a one-log bundle. The last line counts the entry lines (a
// cut file shows), the selected entries left out because they were not
// sealed yet and, when there are any, those left out or reduced to their
// leaf hash because retention purged them.
const bundleFormat = "stocktrail-ledger-bundle/v1"

// bundleAll is the selection of a whole-ledger bundle.
const bundleAll = "all"

// BundleSelection says what a bundle holds.
type BundleSelection struct {
	// Log is InventoryLog or ActivityEvents for that log's entries with
	// their proofs; empty for the whole ledger (both logs, every leaf),
	// which needs the read permissions of both.
	Log Log
	// Entries, when set, narrows a one-log bundle to some entries (the
	// change-log export's filter, say): it hands the ids to yield in
	// batches, in the order they are to appear. Unset means every entry of
	// the log.
	Entries func(ctx context.Context, yield func(ids []int64) error) error
}

type bundleHeader struct {
	Format       string   `json:"format"`
	Selection    string   `json:"selection"`
	Workspace    int64    `json:"workspace"`
	Checkpoint   string   `json:"checkpoint"`
	VerifierKeys []string `json:"verifier_keys"`
}

type bundleTrailer struct {
	End      *int64 `json:"end"`
	Unsealed int64  `json:"unsealed"`
	Purged   int64  `json:"purged"`
}

// BundleStats say what WriteBundle wrote.
type BundleStats struct {
	Entries  int64
	Unsealed int64
	// Purged are the activity events retention purged: their leaf hashes
	// alone in a whole-ledger bundle, left out of a one-log bundle.
	Purged int64
	Size   int64 // the checkpoint's tree size
}

// ParseBundleLog reads which log a bundle holds as a person or a URL names
// it: "all" (or nothing) for the whole ledger, else the log's table name.
func ParseBundleLog(name string) (Log, error) {
	switch l := Log(name); {
	case name == "" || name == "all":
		return "", nil
	case l.Valid():
		return l, nil
	}
	return "", fault.Field("log", "must be inventory_log, activity_events or all")
}

// WriteBundle writes a bundle of the actor's workspace to w, against its
// latest checkpoint. Entries sealed after that checkpoint, or not yet, are
// left out and counted.
func WriteBundle(ctx context.Context, db *store.DB, w io.Writer, sel BundleSelection) (BundleStats, error) {
	var stats BundleStats
	perms := []actor.Permission{actor.ViewInventory, actor.ViewActivity}
	switch {
	case sel.Log == "":
		if sel.Entries != nil {
			return stats, fault.Field("log", "a whole-ledger bundle takes every entry: name a log to narrow it")
		}
	case sel.Log.Valid():
		perms = []actor.Permission{permissionFor(sel.Log)}
	default:
		return stats, fault.Field("log", "must be inventory_log, activity_events or empty for both")
	}
	var who actor.Actor
	for _, p := range perms {
		var err error
		if who, err = actor.Require(ctx, p); err != nil {
			return stats, err
		}
	}
	ws, q := who.WorkspaceID, db.Read()
	cp, err := latestCheckpoint(ctx, q, ws)
	if err != nil {
		return stats, err
	}
	stats.Size = cp.Size
	keys, err := verifierKeys(ctx, q)
	if err != nil {
		return stats, err
	}
	h := bundleHeader{Format: bundleFormat, Selection: string(sel.Log), Workspace: ws, Checkpoint: cp.Note}
	if h.Selection == "" {
		h.Selection = bundleAll
	}
	for _, k := range keys {
		h.VerifierKeys = append(h.VerifierKeys, k.Key)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	header, err := jsonLine(h)
	if err != nil {
		return stats, err
	}
	bw.Write(header)
	bs := &bundleWriter{ctx: ctx, db: db, q: q, ws: ws, size: cp.Size, w: bw, stats: &stats}
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(up_to_seq), -1) FROM ledger_purges WHERE workspace_id = $1`, ws).Scan(&bs.purgedUpTo); err != nil {
		return stats, fmt.Errorf("purge records: %w", err)
	}
	switch {
	case sel.Log == "":
		err = bs.everyLeaf()
	case sel.Entries == nil:
		err = bs.logLeaves(sel.Log)
	default:
		err = sel.Entries(ctx, func(ids []int64) error { return bs.entries(sel.Log, ids) })
	}
	if err != nil {
		return stats, err
	}
	if stats.Purged > 0 {
		fmt.Fprintf(bw, "{\"end\":%d,\"unsealed\":%d,\"purged\":%d}\n", bs.lines, stats.Unsealed, stats.Purged)
	} else {
		fmt.Fprintf(bw, "{\"end\":%d,\"unsealed\":%d}\n", bs.lines, stats.Unsealed)
	}
	if err := bw.Flush(); err != nil {
		return stats, err
	}
	// Taking the trail out is itself on the trail, as every export is.
	err = activity.RecordNow(context.WithoutCancel(ctx), db, activity.Event{Action: activity.Export, Category: activity.Audit,
		EntityType: "ledger", EntityID: fmt.Sprint(ws),
		New:         map[string]any{"selection": h.Selection, "entries": stats.Entries, "tree_size": stats.Size},
		Description: fmt.Sprintf("exported a ledger bundle (%s) of %d entries against the checkpoint of size %d", h.Selection, stats.Entries, stats.Size)})
	return stats, err
}

type bundleWriter struct {
	ctx   context.Context
	db    *store.DB
	q     store.Querier
	ws    int64
	size  int64
	w     *bufio.Writer
	stats *BundleStats
	// purgedUpTo is the largest sequence number a retention purge covered
	// (-1: none); lines counts the entry lines written.
	purgedUpTo int64
	lines      int64
}

const bundleBatch = 2000

// everyLeaf writes every leaf of the checkpoint's tree in sequence order.
func (b *bundleWriter) everyLeaf() error {
	for from := int64(0); from < b.size; from += bundleBatch {
		leaves, err := b.leaves(`seq >= ? AND seq < ?`, from, min(from+bundleBatch, b.size))
		if err != nil {
			return err
		}
		if err := b.write(leaves, false); err != nil {
			return err
		}
	}
	return nil
}

// logLeaves writes every sealed entry of one log, in sequence order.
func (b *bundleWriter) logLeaves(log Log) error {
	for from := int64(0); from < b.size; {
		leaves, err := b.leaves(`log = ? AND seq >= ? AND seq < ?`, string(log), from, b.size)
		if err != nil {
			return err
		}
		if len(leaves) == 0 {
			break
		}
		if err := b.write(leaves, true); err != nil {
			return err
		}
		from = leaves[len(leaves)-1].seq + 1
	}
	return nil
}

// entries writes the given entries of log with their proofs.
func (b *bundleWriter) entries(log Log, ids []int64) error {
	for len(ids) > 0 {
		batch := ids[:min(len(ids), bundleBatch)]
		ids = ids[len(batch):]
		w := store.NewWhere("workspace_id = ?", b.ws).And("log = ?", string(log)).And(store.In(b.db, "entry_id", batch))
		rows, err := b.q.QueryContext(b.ctx, `SELECT seq, entry_id FROM ledger_leaves WHERE `+w.String(), w.Args...)
		if err != nil {
			return fmt.Errorf("sequence numbers: %w", err)
		}
		seqs := map[int64]int64{}
		for rows.Next() {
			var seq, id int64
			if err := rows.Scan(&seq, &id); err != nil {
				rows.Close()
				return err
			}
			seqs[id] = seq
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var leaves []leafRow
		for _, id := range batch {
			seq, ok := seqs[id]
			if !ok || seq >= b.size {
				b.stats.Unsealed++
				continue
			}
			leaves = append(leaves, leafRow{seq: seq, entryID: id, log: log})
		}
		if err := b.write(leaves, true); err != nil {
			return err
		}
	}
	return nil
}

func (b *bundleWriter) leaves(cond string, vals ...any) ([]leafRow, error) {
	w := store.NewWhere("workspace_id = ?", b.ws).And(cond, vals...)
	rows, err := b.q.QueryContext(b.ctx, `SELECT seq, log, entry_id, leaf_hash FROM ledger_leaves WHERE `+w.String()+` ORDER BY seq LIMIT `+w.Add(bundleBatch), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("read leaves: %w", err)
	}
	defer rows.Close()
	var out []leafRow
	for rows.Next() {
		var l leafRow
		var h []byte
		if err := rows.Scan(&l.seq, &l.log, &l.entryID, &h); err != nil {
			return nil, err
		}
		copy(l.hash[:], h)
		out = append(out, l)
	}
	return out, rows.Err()
}

// write writes a batch of leaves' entries, with proofs when asked. An
// entry missing from its log is left out: the bundle then fails to verify,
// as it should.
func (b *bundleWriter) write(leaves []leafRow, proofs bool) error {
	byLog := map[Log][]int64{}
	for _, l := range leaves {
		byLog[l.log] = append(byLog[l.log], l.entryID)
	}
	data := map[Log]map[int64][]byte{}
	for log, ids := range byLog {
		if !log.Valid() {
			return fmt.Errorf("leaf of unknown log %q", log)
		}
		var err error
		if data[log], err = readEntries(b.ctx, b.q, b.db, b.ws, log, ids); err != nil {
			return err
		}
	}
	var hr tlog.HashReader
	if proofs {
		var err error
		if hr, err = b.proofHashes(leaves); err != nil {
			return err
		}
	}
	for _, l := range leaves {
		d, ok := data[l.log][l.entryID]
		if !ok && l.log == ActivityEvents && l.seq <= b.purgedUpTo {
			// Purged by retention: a whole-ledger bundle keeps its place
			// with the leaf hash, so the root still adds up; a bundle of
			// entries with proofs leaves it out. Both count it.
			b.stats.Purged++
			if !proofs {
				b.w.WriteString(`{"seq":`)
				b.w.WriteString(strconv.FormatInt(l.seq, 10))
				b.w.WriteString(`,"purged":"`)
				b.w.WriteString(base64.StdEncoding.EncodeToString(l.hash[:]))
				b.w.WriteString("\"}\n")
				b.lines++
			}
			continue
		}
		if !ok {
			continue
		}
		b.w.WriteString(`{"seq":`)
		b.w.WriteString(strconv.FormatInt(l.seq, 10))
		if proofs {
			p, err := tlog.ProveRecord(b.size, l.seq, hr)
			if err != nil {
				return fmt.Errorf("prove seq %d: %w", l.seq, err)
			}
			b.w.WriteString(`,"proof":[`)
			for i, h := range p {
				if i > 0 {
					b.w.WriteByte(',')
				}
				b.w.WriteByte('"')
				b.w.WriteString(base64.StdEncoding.EncodeToString(h[:]))
				b.w.WriteByte('"')
			}
			b.w.WriteByte(']')
		}
		b.w.WriteString(`,"entry":`)
		b.w.Write(d)
		b.w.WriteString("}\n")
		b.stats.Entries++
		b.lines++
	}
	return nil
}

// indexRecorder answers ReadHashes with zeros, noting what was asked: the
// hashes a proof needs depend on the positions alone, so one pass finds
// them for a whole batch, read then in one query.
type indexRecorder struct{ indexes []int64 }

func (r *indexRecorder) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	r.indexes = append(r.indexes, indexes...)
	return make([]tlog.Hash, len(indexes)), nil
}

type hashMap map[int64]tlog.Hash

func (m hashMap) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		h, ok := m[idx]
		if !ok {
			return nil, fmt.Errorf("tree hash %d was not read", idx)
		}
		out[i] = h
	}
	return out, nil
}

// proofHashes reads every stored hash the batch's proofs need at once.
func (b *bundleWriter) proofHashes(leaves []leafRow) (tlog.HashReader, error) {
	rec := &indexRecorder{}
	for _, l := range leaves {
		if _, err := tlog.ProveRecord(b.size, l.seq, rec); err != nil {
			return nil, err
		}
	}
	seen := map[int64]bool{}
	var unique []int64
	for _, idx := range rec.indexes {
		if !seen[idx] {
			seen[idx] = true
			unique = append(unique, idx)
		}
	}
	hs := &hashStore{ctx: b.ctx, q: b.q, on: b.db, ws: b.ws}
	out := hashMap{}
	for len(unique) > 0 {
		part := unique[:min(len(unique), 5000)]
		unique = unique[len(part):]
		hashes, err := hs.ReadHashes(part)
		if err != nil {
			return nil, err
		}
		for i, idx := range part {
			out[idx] = hashes[i]
		}
	}
	return out, nil
}

// BundleReport is what VerifyBundle found.
type BundleReport struct {
	Workspace int64
	Origin    string
	Selection string
	// Size is the signed checkpoint's tree size; Entries how many entries
	// of the bundle were proved into it.
	Size    int64
	Entries int64
	// Purged are the entries retention purged: in a whole-ledger bundle
	// their leaf hashes alone, counted into the root; in a one-log bundle
	// left out (the last line says how many).
	Purged int64
	// Complete: the bundle holds every entry 0..Size-1 and they add up to
	// the signed root, so nothing was left out.
	Complete bool
	Problems []Problem
}

// OK reports whether every entry of the bundle is in the signed log.
func (r BundleReport) OK() bool { return len(r.Problems) == 0 }

// Summary is one line.
func (r BundleReport) Summary() string {
	if !r.OK() {
		return fmt.Sprintf("FAILED: %d problems, first: %s", len(r.Problems), r.Problems[0])
	}
	complete := "not complete: the bundle holds a selection"
	if r.Complete {
		complete = "complete: it holds every entry"
	}
	if r.Purged > 0 {
		complete += fmt.Sprintf("; %d entries purged by retention", r.Purged)
		if r.Complete {
			complete += ", present by their leaf hashes only"
		} else {
			complete += ", left out"
		}
	}
	return fmt.Sprintf("OK: bundle verified: %d entries of workspace %d are in the log signed at size %d (%s)", r.Entries, r.Workspace, r.Size, complete)
}

// VerifyBundle checks a bundle with nothing but pinned verifier keys: the
// checkpoint's signature, every entry's leaf hash and proof (or, for a
// whole-ledger bundle, the root recomputed from every leaf) and whether the
// bundle is complete.
func VerifyBundle(r io.Reader, keys []string) (BundleReport, error) {
	var rep BundleReport
	if len(keys) == 0 {
		return rep, errors.New("verifying a bundle takes the verifier key you trust (pinned from Settings → Ledger or GET /api/v1/ledger/public-key)")
	}
	vs, err := verifiers(keys)
	if err != nil {
		return rep, err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return rep, err
		}
		return rep, errors.New("empty bundle")
	}
	var h bundleHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Format != bundleFormat {
		return rep, fmt.Errorf("not a stocktrail ledger bundle (%s): the first line is not its header", bundleFormat)
	}
	rep.Workspace, rep.Selection = h.Workspace, h.Selection
	problem := func(p Problem) {
		p.Workspace = h.Workspace
		rep.Problems = append(rep.Problems, p)
	}
	n, err := note.Open([]byte(h.Checkpoint), vs)
	if err != nil {
		problem(Problem{Seq: -1, What: "the bundle's checkpoint: " + signatureProblem(err, true)})
		return rep, nil
	}
	cp, err := ParseCheckpoint(n.Text)
	if err != nil {
		problem(Problem{Seq: -1, What: "the bundle's checkpoint: " + err.Error()})
		return rep, nil
	}
	rep.Origin, rep.Size = cp.Origin, cp.Size
	if !strings.HasSuffix(cp.Origin, "/workspace/"+strconv.FormatInt(h.Workspace, 10)) {
		problem(Problem{Seq: -1, What: fmt.Sprintf("the checkpoint is for %q, the header says workspace %d", cp.Origin, h.Workspace)})
	}
	all := h.Selection == bundleAll
	hasher := newLeafHasher()
	fold := &treeFold{}
	next := int64(0) // the seq that keeps the bundle contiguous from 0
	contiguous := true
	var lines, proved int64
	ended := false
	for sc.Scan() {
		line := sc.Bytes()
		lines++
		if ended {
			problem(Problem{Seq: -1, What: fmt.Sprintf("line %d follows the bundle's last line", lines+1)})
			break
		}
		e, err := parseBundleLine(line)
		if err != nil {
			var t bundleTrailer
			if json.Unmarshal(line, &t) == nil && t.End != nil {
				ended = true
				lines--
				if *t.End != lines {
					problem(Problem{Seq: -1, What: fmt.Sprintf("the bundle says it holds %d entries, it holds %d", *t.End, lines)})
				}
				if h.Selection != bundleAll {
					rep.Purged = t.Purged
				}
				continue
			}
			problem(Problem{Seq: -1, What: fmt.Sprintf("line %d: %v", lines+1, err)})
			continue
		}
		leaf := e.leaf
		if !e.purged {
			leaf = hasher.leaf(e.entry)
		} else if h.Selection != bundleAll {
			problem(Problem{Seq: e.seq, What: "a purged entry's leaf hash in a bundle of entries with proofs: only whole-ledger bundles carry them"})
			continue
		} else {
			rep.Purged++
		}
		if e.seq != next {
			contiguous = false
		}
		next = e.seq + 1
		if all {
			if !contiguous {
				problem(Problem{Seq: e.seq, What: fmt.Sprintf("a whole-ledger bundle must hold every leaf in order: seq %d follows seq %d", e.seq, fold.size-1)})
				all = false // the root can no longer be recomputed
				continue
			}
			fold.add(leaf)
			continue
		}
		if e.seq >= cp.Size {
			p := entryProblem(e)
			p.What = fmt.Sprintf("seq %d is beyond the checkpoint's size %d", e.seq, cp.Size)
			problem(p)
			continue
		}
		if err := tlog.CheckRecord(e.proof, cp.Size, cp.Root, e.seq, leaf); err != nil {
			p := entryProblem(e)
			p.What = "the entry and its proof do not lead to the signed root: the entry, its sequence number or the proof was altered"
			problem(p)
			continue
		}
		proved++
	}
	if err := sc.Err(); err != nil {
		return rep, fmt.Errorf("read bundle: %w", err)
	}
	if !ended {
		problem(Problem{Seq: -1, What: "the bundle has no last line: the file was cut short"})
	}
	switch {
	case h.Selection == bundleAll && all && fold.size != cp.Size:
		problem(Problem{Seq: fold.size, What: fmt.Sprintf("a whole-ledger bundle ends at seq %d, the checkpoint holds %d entries", fold.size, cp.Size)})
	case h.Selection == bundleAll && all && fold.root() != cp.Root:
		problem(Problem{Seq: -1, What: "the entries do not add up to the signed root: an entry was altered, swapped, added or left out"})
	case h.Selection == bundleAll && all:
		proved = fold.size - rep.Purged
	}
	rep.Entries = proved
	held := proved // every seq 0..size-1, purged ones by their leaf hash
	if h.Selection == bundleAll {
		held += rep.Purged
	}
	rep.Complete = rep.OK() && contiguous && held == cp.Size
	return rep, nil
}

// leafHasher computes LeafHash (tlog.RecordHash: SHA-256 of 0x00 and the
// data) with one digest for a whole bundle, sparing an allocation per entry.
type leafHasher struct {
	h   hash.Hash
	sum tlog.Hash
}

func newLeafHasher() *leafHasher { return &leafHasher{h: sha256.New()} }

var leafPrefix = []byte{0}

func (l *leafHasher) leaf(data []byte) tlog.Hash {
	l.h.Reset()
	l.h.Write(leafPrefix)
	l.h.Write(data)
	l.h.Sum(l.sum[:0])
	return l.sum
}

func entryProblem(e bundleEntry) Problem {
	p := Problem{Seq: e.seq}
	p.Log, p.EntryID = entryName(e.entry)
	return p
}

// entryName reads the log and id from the head of a canonical entry, for
// naming it in a problem.
func entryName(entry []byte) (Log, int64) {
	var head struct {
		Log Log   `json:"log"`
		ID  int64 `json:"id"`
	}
	json.Unmarshal(entry, &head)
	return head.Log, head.ID
}

type bundleEntry struct {
	seq   int64
	proof []tlog.Hash
	entry []byte
	// purged: a whole-ledger bundle's line for an entry retention purged,
	// with its leaf hash alone.
	purged bool
	leaf   tlog.Hash
}

var (
	lineSeq    = []byte(`{"seq":`)
	lineProof  = []byte(`,"proof":[`)
	lineEntry  = []byte(`,"entry":`)
	linePurged = []byte(`,"purged":"`)
	leafHead   = []byte(`{"v":"` + LeafVersion + `",`)
	leafHead2  = []byte(`{"v":"` + LeafVersion2 + `",`)
)

// parseBundleLine reads an entry line by hand, strictly in the shape
// WriteBundle writes: the canonical entry must reach the hash as the exact
// bytes of the file, and the hand parse is what lets a complete bundle
// verify at hundreds of thousands of entries a second.
func parseBundleLine(line []byte) (bundleEntry, error) {
	var e bundleEntry
	rest, ok := bytes.CutPrefix(line, lineSeq)
	if !ok {
		return e, errors.New(`an entry line starts with {"seq":`)
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	seq, err := strconv.ParseInt(string(rest[:i]), 10, 64)
	if err != nil || i > 1 && rest[0] == '0' {
		return e, errors.New("bad sequence number")
	}
	e.seq, rest = seq, rest[i:]
	if r, ok := bytes.CutPrefix(rest, linePurged); ok {
		s, ok := bytes.CutSuffix(r, []byte(`"}`))
		var buf [tlog.HashSize + 1]byte
		if !ok || len(s) != base64.StdEncoding.EncodedLen(tlog.HashSize) {
			return e, errors.New("bad purged leaf hash")
		}
		if n, err := base64.StdEncoding.Strict().Decode(buf[:], s); err != nil || n != tlog.HashSize {
			return e, errors.New("bad purged leaf hash")
		}
		e.purged, e.leaf = true, tlog.Hash(buf[:tlog.HashSize])
		return e, nil
	}
	if r, ok := bytes.CutPrefix(rest, lineProof); ok {
		end := bytes.IndexByte(r, ']')
		if end < 0 {
			return e, errors.New("unterminated proof")
		}
		if end > 0 {
			for _, s := range bytes.Split(r[:end], []byte(",")) {
				s, ok := bytes.CutPrefix(s, []byte(`"`))
				s, ok2 := bytes.CutSuffix(s, []byte(`"`))
				// Strict: a hash has one spelling, so no byte of it can change
				// unnoticed.
				var buf [tlog.HashSize + 1]byte
				if !ok || !ok2 || len(s) != base64.StdEncoding.EncodedLen(tlog.HashSize) {
					return e, errors.New("bad proof hash")
				}
				if n, err := base64.StdEncoding.Strict().Decode(buf[:], s); err != nil || n != tlog.HashSize {
					return e, errors.New("bad proof hash")
				}
				e.proof = append(e.proof, tlog.Hash(buf[:tlog.HashSize]))
			}
		}
		rest = r[end+1:]
	}
	r, ok := bytes.CutPrefix(rest, lineEntry)
	if !ok || len(r) < 2 || r[len(r)-1] != '}' {
		return e, errors.New(`expected ,"entry":{…}} to end the line`)
	}
	e.entry = r[:len(r)-1]
	if !bytes.HasPrefix(e.entry, leafHead) && !bytes.HasPrefix(e.entry, leafHead2) || e.entry[len(e.entry)-1] != '}' {
		return e, fmt.Errorf("the entry is not a %s or %s canonical entry", LeafVersion, LeafVersion2)
	}
	return e, nil
}

func jsonLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(b, '\n'), err
}
