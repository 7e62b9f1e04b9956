package inventory_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/export"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestExportLogMatchesEntries checks the export's fast read path against
// the rows built from the change log's own Entry values: every party kind,
// decimals of several scales, negative changes, backdated entries, text
// that needs quoting or the formula guard, in a workspace time zone with
// daylight saving time, through an export bigger than one read batch, with
// the older half of the log sealed (its ledger sequences shown) and the
// newer half not yet.
func TestExportLogMatchesEntries(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		// Negative stock allowed: the issues below are backdated over years,
		// before any receipt, and only the export of their entries matters here.
		tz, negative := "America/New_York", true
		if _, err := workspace.Update(w.ctx, db, workspace.Change{TimeZone: &tz, AllowNegativeStock: &negative}); err != nil {
			t.Fatal(err)
		}
		station := actor.With(context.Background(), actor.Actor{WorkspaceID: w.f.Workspace.ID, Kind: actor.Station, ID: 7, Name: "Dock 1",
			Role: actor.StationRole, LocationID: w.a1.ID})
		key := actor.With(context.Background(), actor.Actor{WorkspaceID: w.f.Workspace.ID, Kind: actor.APIKey, ID: 3, Name: "=erp", Role: actor.Manager})
		key = actor.WithRequest(key, actor.Request{IdempotencyKey: "idem,\"1\""})
		sys := actor.With(context.Background(), actor.SystemActor(w.f.Workspace.ID, "cli import"))
		oil := w.receive(t, "OIL-5", w.a1, "lot \"7\"", "10.5")
		bolt := w.receive(t, "BOLT-M8", w.a2, "", "1000")
		if _, err := inventory.Receive(station, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "BOLT-M8"}, Quantity: "5"}); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.Correct(key, db, inventory.Correction{RecordRef: inventory.RecordRef{RecordID: oil.ID}, Change: "-0.25",
			Options: inventory.Options{Reason: "spilt,\nmopped", Reference: "-1+1"}}); err != nil {
			t.Fatal(err)
		}
		// Text holding the separator the SQLite read joins texts with can
		// no longer be written (control characters are refused).
		if _, err := inventory.Correct(w.ctx, db, inventory.Correction{RecordRef: inventory.RecordRef{RecordID: bolt.ID}, Change: "2",
			Options: inventory.Options{Reason: "unit\x1fseparator", Reference: "\x1f"}}); !fault.Is(err, fault.Invalid) {
			t.Fatalf("a control character in a reason: %v", err)
		}
		if _, err := inventory.Correct(w.ctx, db, inventory.Correction{RecordRef: inventory.RecordRef{RecordID: bolt.ID}, Change: "2",
			Options: inventory.Options{Reason: "unit separator", Reference: "US"}}); err != nil {
			t.Fatal(err)
		}
		sealer := ledgertest.NewSealer(t, db)
		for i := range 700 { // more than one read batch
			if i == 350 {
				if n, err := sealer.Seal(context.Background()); err != nil || n == 0 {
					t.Fatalf("sealed %d: %v", n, err)
				}
			}
			ctx, rec, qty := w.ctx, bolt.ID, "1"
			switch i % 3 {
			case 1:
				ctx = sys
			case 2:
				rec, qty = oil.ID, "0.01"
			}
			opts := inventory.Options{Reference: "@ref", EffectiveAt: time.Now().Add(-time.Duration(i) * 97 * time.Hour)}
			if _, err := inventory.IssueStock(ctx, db, inventory.Issue{RecordRef: inventory.RecordRef{RecordID: rec}, Quantity: inventory.DecimalText(qty), Options: opts}); err != nil {
				t.Fatal(err)
			}
		}
		// Many batches, chunks and batches per chunk, a chunk size that is
		// no multiple of the batch size, and the defaults.
		for _, chunking := range []struct {
			rows int
			ids  int64
		}{{7, 50}, {5, 5}, {512, 4096}} {
			restore := inventory.SetExportChunking(chunking.rows, chunking.ids)
			checkExports(t, w)
			// A writer that fails stops the export (and its readers) with
			// its error.
			if _, err := inventory.ExportLog(w.ctx, db, inventory.LogFilter{}, inventory.CSV, &failingWriter{}); !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("write error not reported: %v", err)
			}
			restore()
		}
	})
}

// checkExports compares ExportLog with exportFromEntries for a few
// filters in both formats.
func checkExports(t *testing.T, w *world) {
	t.Helper()
	for _, f := range []inventory.LogFilter{{}, {SKU: "OIL-5"}, {ActorKind: "system"}, {Before: 300}} {
		for _, format := range []inventory.ExportFormat{inventory.CSV, inventory.XLSX} {
			var got bytes.Buffer
			n, err := inventory.ExportLog(w.ctx, w.db, f, format, &got)
			if err != nil {
				t.Fatal(err)
			}
			want, wantN := exportFromEntries(t, w, f, format)
			if n != wantN {
				t.Errorf("%s %+v: %d rows, want %d", format, f, n, wantN)
			}
			if format == inventory.CSV && got.String() != want {
				t.Errorf("%s %+v: export differs from the entries\n got %.2000q\nwant %.2000q", format, f, got.String(), want)
			}
			if format == inventory.XLSX && !sameXLSXSheet(t, got.Bytes(), []byte(want)) {
				t.Errorf("%s %+v: sheet differs from the entries", format, f)
			}
		}
	}
}

// failingWriter fails after some writes.
type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after--; w.after < 0 {
		return 0, io.ErrClosedPipe
	}
	return len(p), nil
}

// exportFromEntries renders the log as the export did before its read
// path was rewritten: from ListLog's Entry values, through WriteRow.
func exportFromEntries(t *testing.T, w *world, f inventory.LogFilter, format inventory.ExportFormat) (string, int) {
	t.Helper()
	ws, err := workspace.Get(w.ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	cols := []export.Column{{Title: "SKU", Kind: export.Text, Width: 16}, {Title: "Quantity", Kind: export.Number}, {Title: "Unit", Kind: export.Text, Width: 8},
		{Title: "Action type", Kind: export.Text, Width: 16}, {Title: "User", Kind: export.Text}, {Title: "Station", Kind: export.Text},
		{Title: "Timestamp", Kind: export.Time}, {Title: "API key", Kind: export.Text}, {Title: "Effective at", Kind: export.Time},
		{Title: "Location", Kind: export.Text, Width: 20}, {Title: "Lot", Kind: export.Text, Width: 12}, {Title: "Record level after", Kind: export.Number},
		{Title: "Location level after", Kind: export.Number}, {Title: "Movement", Kind: export.Text, Width: 14}, {Title: "Reason", Kind: export.Text, Width: 30},
		{Title: "Reference", Kind: export.Text, Width: 20}, {Title: "Idempotency key", Kind: export.Text, Width: 20}, {Title: "Record", Kind: export.Integer, Width: 10},
		{Title: "Entry", Kind: export.Integer, Width: 10}, {Title: "Allocated change", Kind: export.Number},
		{Title: "Allocated after", Kind: export.Number}, {Title: "Ledger sequence", Kind: export.Integer, Width: 10}}
	var buf bytes.Buffer
	var tw export.TableWriter
	if format == inventory.CSV {
		tw, err = export.NewCSV(&buf, cols, ws.Settings.Location())
	} else {
		tw, err = export.NewXLSX(&buf, cols, ws.Settings.Location(), "Change log")
	}
	if err != nil {
		t.Fatal(err)
	}
	n, sealed := 0, 0
	for {
		f.Limit = inventory.MaxPage
		page, err := inventory.ListLog(w.ctx, w.db, f)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int64, len(page.Entries))
		for i, e := range page.Entries {
			ids[i] = e.ID
		}
		seqs, err := ledger.Sequences(w.ctx, w.db, ledger.InventoryLog, ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			var seq any // empty until sealed
			if s, ok := seqs[e.ID]; ok {
				seq, sealed = s, sealed+1
			}
			var user, station, key any = "", "", ""
			switch e.ActorKind {
			case "user":
				user = e.ActorName
			case "station":
				station = e.ActorName
			case "api_key":
				key = e.ActorName
			default:
				user = e.ActorName + " (system)"
			}
			row := []any{e.SKU, e.ChangeText(), e.Unit, string(e.Action), user, station, e.RecordedAt, key, e.EffectiveAt, e.LocationPath, e.Lot,
				e.RecordLevelText(), e.LocationLevelText(), e.Movement, e.Reason, e.Reference, e.IdempotencyKey, e.RecordID, e.ID,
				e.AllocatedChangeText(), e.AllocatedLevelText(), seq}
			if err := tw.WriteRow(row); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if page.NextCursor == "" {
			break
		}
		if f.Before, err = inventory.ParseCursor(page.NextCursor); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if f == (inventory.LogFilter{}) && (sealed == 0 || sealed == n) {
		t.Fatalf("%d of %d entries sealed: the export must show both kinds", sealed, n)
	}
	return buf.String(), n
}

// checkSequences checks that the exported rows (columns as exportColumns;
// Entry is column 18) show in their last column the ledger sequence that
// ledger.Sequences gives their entry, or nothing for one not sealed, and
// that sealed of them are sealed.
func checkSequences(t *testing.T, w *world, rows [][]string, sealed int) {
	t.Helper()
	ids := make([]int64, len(rows))
	for i, r := range rows {
		if len(r) != 22 {
			t.Fatalf("row of %d columns: %q", len(r), r)
		}
		id, err := strconv.ParseInt(r[18], 10, 64)
		if err != nil {
			t.Fatalf("entry id %q: %v", r[18], err)
		}
		ids[i] = id
	}
	seqs, err := ledger.Sequences(w.ctx, w.db, ledger.InventoryLog, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != sealed {
		t.Fatalf("%d of the entries sealed, want %d", len(seqs), sealed)
	}
	for i, r := range rows {
		want := ""
		if seq, ok := seqs[ids[i]]; ok {
			want = strconv.FormatInt(seq, 10)
		}
		if r[21] != want {
			t.Errorf("entry %d: ledger sequence %q, want %q", ids[i], r[21], want)
		}
	}
}

// sameXLSXSheet compares the worksheet XML of two workbooks (the other parts
// carry creation times).
func sameXLSXSheet(t *testing.T, a, b []byte) bool {
	t.Helper()
	sheet := func(p []byte) []byte {
		zr, err := zip.NewReader(bytes.NewReader(p), int64(len(p)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if f.Name == "xl/worksheets/sheet1.xml" {
				r, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				data, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				return data
			}
		}
		t.Fatal("no worksheet")
		return nil
	}
	sa, sb := sheet(a), sheet(b)
	if !bytes.Equal(sa, sb) {
		t.Logf("got  %.3000s\nwant %.3000s", sa, sb)
		return false
	}
	return true
}
