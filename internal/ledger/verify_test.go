package ledger_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// leaf is one sealed entry as the tests pick them.
type leaf struct {
	seq, id int64
	log     ledger.Log
}

// sealedWorld is a world with three sealing rounds of receipts.
func sealedWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	w := newWorld(t, db)
	for _, q := range []string{"4.5", "1", "2.25"} {
		w.receive(t, q)
		w.receive(t, "1")
		w.seal(t)
	}
	return w
}

func (w *world) leaves(t *testing.T) []leaf {
	t.Helper()
	rows, err := w.db.Read().QueryContext(context.Background(), `SELECT seq, log, entry_id FROM ledger_leaves WHERE workspace_id = $1 ORDER BY seq`, w.f.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []leaf
	for rows.Next() {
		var l leaf
		if err := rows.Scan(&l.seq, &l.log, &l.id); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// middle returns a leaf of log from the middle of the tree.
func (w *world) middle(t *testing.T, log ledger.Log) leaf {
	t.Helper()
	var of []leaf
	for _, l := range w.leaves(t) {
		if l.log == log {
			of = append(of, l)
		}
	}
	if len(of) < 3 {
		t.Fatalf("only %d %s leaves", len(of), log)
	}
	return of[len(of)/2]
}

// tamper runs statements past the tables' guards, as someone with the
// database's file or owner login can: on SQLite it drops the tables'
// triggers and creates them again, on PostgreSQL it disables and enables
// them. With keepOff the guards stay off.
func (w *world) tamper(t *testing.T, tables []string, keepOff bool, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := w.db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	store.Pick(w.db, func() {
		var saved []string
		for _, table := range tables {
			rows, err := w.db.Read().QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1`, table)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for rows.Next() {
				var name, sql string
				if err := rows.Scan(&name, &sql); err != nil {
					t.Fatal(err)
				}
				names, saved = append(names, name), append(saved, sql)
			}
			rows.Close()
			for _, n := range names {
				exec(`DROP TRIGGER ` + n)
			}
		}
		for _, s := range stmts {
			exec(s)
		}
		if !keepOff {
			for _, s := range saved {
				exec(s)
			}
		}
	}, func() {
		for _, table := range tables {
			exec(`ALTER TABLE ` + table + ` DISABLE TRIGGER ALL`)
		}
		for _, s := range stmts {
			exec(s)
		}
		if !keepOff {
			for _, table := range tables {
				exec(`ALTER TABLE ` + table + ` ENABLE TRIGGER ALL`)
			}
		}
	})()
}

func (w *world) verify(t *testing.T, opts ledger.VerifyOptions) ledger.Report {
	t.Helper()
	if opts.Keys == nil {
		opts.Keys = []string{w.sealer.Key.Verifier}
	}
	r, err := ledger.Verify(context.Background(), w.db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (w *world) outside(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile(w.sealer.CheckpointLog)
	if err != nil {
		t.Fatal(err)
	}
	notes, err := ledger.ParseCheckpointLog(b)
	if err != nil {
		t.Fatal(err)
	}
	return notes
}

// wantProblem fails unless one of r's problems names l and says what.
func wantProblem(t *testing.T, r ledger.Report, l leaf, what string) {
	t.Helper()
	if r.OK() {
		t.Fatalf("verified though tampered: %s", r.Summary())
	}
	for _, p := range r.Problems {
		if p.Log == l.log && p.EntryID == l.id && p.Seq == l.seq && strings.Contains(p.What, what) {
			if !strings.Contains(r.Summary(), "FAILED") {
				t.Errorf("summary %q", r.Summary())
			}
			return
		}
	}
	t.Fatalf("no problem naming %s %d (seq %d) %q in:\n%s", l.log, l.id, l.seq, what, problems(r))
}

func problems(r ledger.Report) string {
	var b strings.Builder
	for _, p := range r.Problems {
		fmt.Fprintln(&b, p)
	}
	return b.String()
}

func TestVerifyUntouchedLedger(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		n := int64(len(w.leaves(t)))
		r := w.verify(t, ledger.VerifyOptions{Checkpoints: w.outside(t), Batch: 4})
		if !r.OK() || r.Entries != n || r.Checkpoints != 3 || r.OutsideCheckpoints != 3 || !r.KeysPinned {
			t.Fatalf("untouched: %s\n%s", r.Summary(), problems(r))
		}
		if !strings.HasPrefix(r.Summary(), "OK") || r.Sizes[w.f.Workspace.ID] != n {
			t.Fatalf("summary %q, sizes %v", r.Summary(), r.Sizes)
		}
		// Without pinned keys the registered ones are used, and the report
		// says so.
		r = w.verify(t, ledger.VerifyOptions{Keys: []string{}})
		if !r.OK() || r.KeysPinned || !strings.Contains(r.Summary(), "not pinned") {
			t.Fatalf("registered keys: %s", r.Summary())
		}
		// Incremental: only what was sealed since.
		w.receive(t, "3")
		w.seal(t)
		inc, err := ledger.VerifySince(context.Background(), db, r.Sizes)
		if err != nil || !inc.OK() || inc.Entries == 0 || inc.Entries >= n || inc.Checkpoints != 1 {
			t.Fatalf("incremental: %v %s\n%s", err, inc.Summary(), problems(inc))
		}
		// A pending entry is neither a problem nor checked.
		w.receive(t, "1")
		if r := w.verify(t, ledger.VerifyOptions{}); !r.OK() {
			t.Fatalf("with pending entries: %s", problems(r))
		}
	})
}

// The constant-memory recomputation matches every checkpoint the sealer
// signed (tlog's tree hash), whatever the batch boundaries.
func TestVerifyRecomputesEveryCheckpointAcrossBatches(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		for i := 0; i < 7; i++ {
			w.receive(t, "1")
			w.seal(t)
		}
		for _, batch := range []int{1, 2, 3, 1000} {
			if r := w.verify(t, ledger.VerifyOptions{Batch: batch, Checkpoints: w.outside(t)}); !r.OK() || r.Checkpoints != 7 {
				t.Fatalf("batch %d: %s\n%s", batch, r.Summary(), problems(r))
			}
		}
	})
}

func TestVerifyDetectsAnEditedChangeLogEntry(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		l := w.middle(t, ledger.InventoryLog)
		w.tamper(t, []string{"inventory_log"}, false, fmt.Sprintf(`UPDATE inventory_log SET actor_name = 'framed' WHERE id = %d`, l.id))
		r := w.verify(t, ledger.VerifyOptions{})
		wantProblem(t, r, l, "does not match its sealed leaf hash")
		if p := r.Problems[0]; p.EntryID != l.id {
			t.Errorf("first problem is %s", p)
		}
	})
}

func TestVerifyDetectsAnEditedActivityEvent(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		l := w.middle(t, ledger.ActivityEvents)
		w.tamper(t, []string{"activity_events"}, false, fmt.Sprintf(`UPDATE activity_events SET ip = '10.6.6.6' WHERE id = %d`, l.id))
		wantProblem(t, w.verify(t, ledger.VerifyOptions{}), l, "does not match its sealed leaf hash")
	})
}

func TestVerifyDetectsAnEntryDeletedInTheMiddle(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		l := w.middle(t, ledger.ActivityEvents)
		w.tamper(t, []string{"activity_events"}, false, fmt.Sprintf(`DELETE FROM activity_events WHERE id = %d`, l.id))
		wantProblem(t, w.verify(t, ledger.VerifyOptions{}), l, "the entry is gone")

		// Its leaf deleted too: the gap in the sequence is named.
		w.tamper(t, []string{"ledger_leaves"}, false, fmt.Sprintf(`DELETE FROM ledger_leaves WHERE workspace_id = %d AND seq = %d`, w.f.Workspace.ID, l.seq))
		r := w.verify(t, ledger.VerifyOptions{})
		wantProblem(t, r, leaf{seq: l.seq}, fmt.Sprintf("leaves %d to %d are missing", l.seq, l.seq))
	})
}

func TestVerifyDetectsTheNewestEntriesDeletedOnlyAgainstCheckpointsKeptOutside(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		all := w.leaves(t)
		// Take the last sealing round away completely: entries, leaves,
		// tree hashes and checkpoints, as if it had never been.
		var kept int64
		if err := db.Read().QueryRowContext(context.Background(), `SELECT size FROM ledger_checkpoints WHERE workspace_id = $1 ORDER BY size DESC LIMIT 1 OFFSET 1`,
			w.f.Workspace.ID).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		ws := w.f.Workspace.ID
		var stmts []string
		for _, l := range all[kept:] {
			stmts = append(stmts, fmt.Sprintf(`DELETE FROM %s WHERE id = %d`, l.log, l.id))
		}
		stmts = append(stmts,
			fmt.Sprintf(`DELETE FROM ledger_leaves WHERE workspace_id = %d AND seq >= %d`, ws, kept),
			fmt.Sprintf(`DELETE FROM ledger_hashes WHERE workspace_id = %d AND idx >= %d`, ws, tlog.StoredHashIndex(0, kept)),
			fmt.Sprintf(`DELETE FROM ledger_checkpoints WHERE workspace_id = %d AND size > %d`, ws, kept))
		w.tamper(t, []string{"inventory_log", "activity_events", "ledger_leaves", "ledger_hashes", "ledger_checkpoints"}, false, stmts...)

		if r := w.verify(t, ledger.VerifyOptions{}); !r.OK() {
			t.Fatalf("the database alone cannot tell, yet: %s", problems(r))
		}
		r := w.verify(t, ledger.VerifyOptions{Checkpoints: w.outside(t)})
		wantProblem(t, r, leaf{seq: kept}, fmt.Sprintf("entries from seq %d on were deleted", kept))
	})
}

func TestVerifyDetectsAForgedEntry(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		w.tamper(t, []string{"activity_events"}, false, fmt.Sprintf(`INSERT INTO activity_events (workspace_id, occurred_at, actor_kind, actor_name, action, category)
			VALUES (%d, 1, 'system', 'forger', 'DELETE', 'inventory')`, w.f.Workspace.ID))
		var id int64
		if err := db.Read().QueryRowContext(context.Background(), `SELECT id FROM activity_events WHERE actor_name = 'forger'`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		w.seal(t) // nothing pending names it: the sealer cannot see it either
		wantProblem(t, w.verify(t, ledger.VerifyOptions{}), leaf{log: ledger.ActivityEvents, id: id, seq: -1}, "neither sealed nor pending")
	})
}

func TestVerifyDetectsTwoEntriesSwapped(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		var of []leaf
		for _, l := range w.leaves(t) {
			if l.log == ledger.InventoryLog {
				of = append(of, l)
			}
		}
		a, b := of[1], of[2]
		cols := ledger.ColumnNames(ledger.InventoryLog)
		read := func(id int64) []any {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := db.Read().QueryRowContext(context.Background(), `SELECT `+strings.Join(cols, ", ")+` FROM inventory_log WHERE id = $1`, id).Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			return vals
		}
		set := func(id int64, vals []any) string {
			var parts []string
			for i, c := range cols {
				if c == "id" {
					continue
				}
				switch v := vals[i].(type) {
				case nil:
					parts = append(parts, c+" = NULL")
				case string:
					parts = append(parts, c+" = '"+strings.ReplaceAll(v, "'", "''")+"'")
				case []byte:
					parts = append(parts, c+" = '"+strings.ReplaceAll(string(v), "'", "''")+"'")
				default:
					parts = append(parts, fmt.Sprintf("%s = %v", c, v))
				}
			}
			return fmt.Sprintf(`UPDATE inventory_log SET %s WHERE id = %d`, strings.Join(parts, ", "), id)
		}
		va, vb := read(a.id), read(b.id)
		w.tamper(t, []string{"inventory_log"}, false, set(a.id, vb), set(b.id, va))
		r := w.verify(t, ledger.VerifyOptions{})
		wantProblem(t, r, a, "does not match")
		wantProblem(t, r, b, "does not match")
	})
}

// storedNote returns the stored checkpoint of the middle sealing round.
func (w *world) storedNote(t *testing.T) (size int64, text string) {
	t.Helper()
	if err := w.db.Read().QueryRowContext(context.Background(), `SELECT size, note FROM ledger_checkpoints WHERE workspace_id = $1 ORDER BY size LIMIT 1 OFFSET 1`,
		w.f.Workspace.ID).Scan(&size, &text); err != nil {
		t.Fatal(err)
	}
	return size, text
}

func TestVerifyDetectsAnAlteredCheckpointSignature(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		size, text := w.storedNote(t)
		// A character late in the signature: the key hash stays ours, the
		// signature no longer verifies.
		i := strings.LastIndex(text, "\n") - 5
		c := byte('A')
		if text[i] == 'A' {
			c = 'B'
		}
		altered := text[:i] + string(c) + text[i+1:]
		w.tamper(t, []string{"ledger_checkpoints"}, false, fmt.Sprintf(`UPDATE ledger_checkpoints SET note = '%s' WHERE workspace_id = %d AND size = %d`, altered, w.f.Workspace.ID, size))
		r := w.verify(t, ledger.VerifyOptions{})
		wantProblem(t, r, leaf{seq: -1}, fmt.Sprintf("stored checkpoint of size %d: the signature by test-key does not verify", size))
	})
}

func TestVerifyDetectsACheckpointSignedByAKeyNeverOurs(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		size, text := w.storedNote(t)
		_, foreign, err := ledger.NewKey("test-key")
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open([]byte(text), note.VerifierList(mustVerifier(t, w.sealer.Key.Verifier)))
		if err != nil {
			t.Fatal(err)
		}
		forged := signWith(t, foreign, n.Text)
		w.tamper(t, []string{"ledger_checkpoints"}, false,
			fmt.Sprintf(`UPDATE ledger_checkpoints SET note = '%s' WHERE workspace_id = %d AND size = %d`, forged, w.f.Workspace.ID, size))
		r := w.verify(t, ledger.VerifyOptions{})
		wantProblem(t, r, leaf{seq: -1}, fmt.Sprintf("stored checkpoint of size %d: not signed by any of the pinned keys", size))
		// The forger also registers the key: only a pinned key notices.
		if _, err := db.Exec(context.Background(), `INSERT INTO ledger_keys (verifier_key, name, added_at) VALUES ($1, 'test-key', 0)`, foreign.Verifier); err != nil {
			t.Fatal(err)
		}
		if r := w.verify(t, ledger.VerifyOptions{Keys: []string{}}); !r.OK() {
			t.Fatalf("registered keys include the forger's: %s", problems(r))
		}
		if r := w.verify(t, ledger.VerifyOptions{}); r.OK() {
			t.Fatal("the pinned key did not notice")
		}
	})
}

func TestVerifyAcrossKeyRotation(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		old := w.sealer.Key.Verifier
		w.sealer.KeyFile = filepath.Join(w.dir, "ledger.key")
		if _, err := w.sealer.RotateKey(context.Background()); err != nil {
			t.Fatal(err)
		}
		w.receive(t, "7")
		w.seal(t)
		both := []string{old, w.sealer.Key.Verifier}
		if r := w.verify(t, ledger.VerifyOptions{Keys: both, Checkpoints: w.outside(t)}); !r.OK() || r.Checkpoints != 4 {
			t.Fatalf("old and new keys: %s\n%s", r.Summary(), problems(r))
		}
		if r := w.verify(t, ledger.VerifyOptions{Keys: []string{}}); !r.OK() {
			t.Fatalf("registered keys: %s", problems(r))
		}
		// The new key alone does not vouch for the old checkpoints.
		if r := w.verify(t, ledger.VerifyOptions{Keys: []string{w.sealer.Key.Verifier}}); r.OK() {
			t.Fatal("old checkpoints verified with the new key only")
		}
	})
}

func TestVerifyNamesADroppedTriggerAndTheRowEdited(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		l := w.middle(t, ledger.InventoryLog)
		w.tamper(t, []string{"inventory_log"}, true, fmt.Sprintf(`UPDATE inventory_log SET change = change + 900000000 WHERE id = %d`, l.id))
		r := w.verify(t, ledger.VerifyOptions{})
		wantProblem(t, r, l, "does not match")
		guard := store.Pick(db, "inventory_log_no_update", "inventory_log_append_only")
		wantProblem(t, r, leaf{seq: -1}, "trigger "+guard+" is missing or disabled")
		wantProblem(t, r, leaf{seq: -1}, "trigger ledger_pending_inventory_log is missing or disabled")
	})
}

func mustVerifier(t *testing.T, key string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseCheckpointLog(t *testing.T) {
	_, k, err := ledger.NewKey("k")
	if err != nil {
		t.Fatal(err)
	}
	a, b := signWith(t, k, "o\n1\nAAAA\n"), signWith(t, k, "o\n2\nBBBB\n")
	notes, err := ledger.ParseCheckpointLog([]byte(a + "\n" + b + "\n"))
	if err != nil || len(notes) != 2 || string(notes[0]) != a || string(notes[1]) != b {
		t.Fatalf("%q %v", notes, err)
	}
	if notes, err := ledger.ParseCheckpointLog([]byte(a)); err != nil || len(notes) != 1 {
		t.Fatalf("without the last blank line: %q %v", notes, err)
	}
	if _, err := ledger.ParseCheckpointLog([]byte("o\n1\nAAAA\n")); err == nil {
		t.Fatal("a note without signatures accepted")
	}
	if _, err := ledger.ParseCheckpointLog([]byte("o\n1\nAAAA\n\nnot a signature\n")); err == nil {
		t.Fatal("a bad signature line accepted")
	}
}

func signWith(t *testing.T, k *ledger.Key, text string) string {
	t.Helper()
	s, err := ledger.Sign(k, text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
