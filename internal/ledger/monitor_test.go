package ledger_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// The server's monitor: silent while the ledger holds; an edited entry turns
// it red (Err, which /readyz reports) at its next full check and is recorded
// once in the workspace's activity log, however often it is found again.
func TestMonitorNoticesTampering(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := sealedWorld(t, db)
		ctx := context.Background()
		m := &ledger.Monitor{DB: db, CheckpointLog: w.sealer.CheckpointLog, FullEvery: time.Hour}
		if err := m.Err(); err != nil {
			t.Fatalf("before any check: %v", err)
		}
		if st := m.Check(ctx); !st.OK || m.Err() != nil {
			t.Fatalf("untouched ledger: %+v", st)
		}
		w.receive(t, "3")
		w.seal(t)
		if st := m.Check(ctx); !st.OK {
			t.Fatalf("after more entries: %+v", st)
		}
		l := w.middle(t, ledger.InventoryLog)
		w.tamper(t, []string{"inventory_log"}, false, `UPDATE inventory_log SET actor_name = 'framed' WHERE id = `+itoa(l.id))
		// Checks between full ones read only what was sealed since.
		if st := m.Check(ctx); !st.OK {
			t.Fatalf("an incremental check read an old entry: %+v", st)
		}
		m.FullEvery = 0
		for i := 0; i < 2; i++ {
			st := m.Check(ctx)
			if st.OK || m.Err() == nil || !strings.Contains(st.Summary, "inventory_log entry "+itoa(l.id)) {
				t.Fatalf("check %d after the edit: %+v", i, st)
			}
		}
		events, err := activity.List(w.f.Ctx, db, activity.Filter{EntityType: "ledger", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(events.Events) != 1 || !strings.Contains(events.Events[0].Description, "ledger verification failed") {
			t.Fatalf("want one failure event, got %+v", events.Events)
		}
	})
}

// The monitor reads only the end of the checkpoint file; a file far larger
// than what it reads still shows a truncated ledger.
func TestMonitorReadsTheNewestOutsideCheckpoints(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		for i := 0; i < 60; i++ {
			w.receive(t, "1")
			w.seal(t)
		}
		b, err := os.ReadFile(w.sealer.CheckpointLog)
		if err != nil || len(b) < 10_000 {
			t.Fatalf("checkpoint log of %d bytes: %v", len(b), err)
		}
		// Pad the file's front so that its tail starts mid-note.
		padded := append([]byte(strings.Repeat(string(b), 1+70_000/len(b))), b...)
		if err := os.WriteFile(w.sealer.CheckpointLog, padded, 0o600); err != nil {
			t.Fatal(err)
		}
		m := &ledger.Monitor{DB: db, CheckpointLog: w.sealer.CheckpointLog}
		if st := m.Check(context.Background()); !st.OK {
			t.Fatalf("untouched: %+v", st)
		}
		// Take the last sealing round away completely, as an attacker who
		// deletes the newest entries would.
		all := w.leaves(t)
		kept := int64(len(all) - 1)
		ws := w.f.Workspace.ID
		l := all[kept]
		w.tamper(t, []string{"inventory_log", "activity_events", "ledger_leaves", "ledger_hashes", "ledger_checkpoints"}, false,
			fmt.Sprintf(`DELETE FROM %s WHERE id = %d`, l.log, l.id),
			fmt.Sprintf(`DELETE FROM ledger_leaves WHERE workspace_id = %d AND seq >= %d`, ws, kept),
			fmt.Sprintf(`DELETE FROM ledger_hashes WHERE workspace_id = %d AND idx >= %d`, ws, tlog.StoredHashIndex(0, kept)),
			fmt.Sprintf(`DELETE FROM ledger_checkpoints WHERE workspace_id = %d AND size > %d`, ws, kept))
		m2 := &ledger.Monitor{DB: db, CheckpointLog: w.sealer.CheckpointLog}
		if st := m2.Check(context.Background()); st.OK {
			t.Fatalf("a checkpoint kept outside is gone from the database, yet the monitor says %+v", st)
		}
	})
}
