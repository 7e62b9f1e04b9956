package activity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/export"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// ExportFormat is a file format of the activity export.
type ExportFormat string

const (
	// CSV holds every recorded field of every matching event.
	CSV ExportFormat = "csv"
	// PDF is a readable report of fewer columns, at most export.MaxPDFRows
	// events.
	PDF ExportFormat = "pdf"
)

// ParseExportFormat accepts csv (the default) or pdf.
func ParseExportFormat(s string) (ExportFormat, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "csv":
		return CSV, nil
	case "pdf":
		return PDF, nil
	}
	return "", fault.Field("format", "must be csv or pdf")
}

// ContentType is the MIME type of the format.
func (f ExportFormat) ContentType() string {
	if f == PDF {
		return "application/pdf"
	}
	return "text/csv; charset=utf-8"
}

// WriteExport writes the actor's workspace's events matching f (its paging
// ignored), newest first, to w in format, with times in loc (the
// workspace's time zone), and records the export as an EXPORT event with
// the format and the number of rows written. It returns that number.
//
// Refusals (permission, a PDF over export.MaxPDFRows events) come before the
// first byte reaches w. A CSV streams: an error after its first bytes can
// only cut the file short. A PDF is built in memory and written whole.
func WriteExport(ctx context.Context, db *store.DB, f Filter, format ExportFormat, loc *time.Location, w io.Writer) (int, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return 0, err
	}
	switch format {
	case CSV:
		return exportCSV(ctx, db, a.WorkspaceID, f, loc, w)
	case PDF:
		return exportPDF(ctx, db, a.WorkspaceID, f, loc, w)
	}
	return 0, fault.Field("format", "must be csv or pdf")
}

// csvColumns are the columns of the CSV export: every recorded field, then
// the event's place in its workspace's ledger (empty until it is sealed).
var csvColumns = []export.Column{
	{Title: "ID", Kind: export.Integer}, {Title: "Timestamp", Kind: export.Time}, {Title: "Actor kind", Kind: export.Text},
	{Title: "Actor ID", Kind: export.Integer}, {Title: "Actor", Kind: export.Text}, {Title: "Action", Kind: export.Text},
	{Title: "Category", Kind: export.Text}, {Title: "Entity type", Kind: export.Text}, {Title: "Entity ID", Kind: export.Text},
	{Title: "Description", Kind: export.Text}, {Title: "Old values", Kind: export.Text}, {Title: "New values", Kind: export.Text},
	{Title: "IP address", Kind: export.Text}, {Title: "User agent", Kind: export.Text}, {Title: "Request ID", Kind: export.Text},
	{Title: "Reported by", Kind: export.Text}, {Title: "Ledger sequence", Kind: export.Integer},
}

// csvRow is an event as a row of csvColumns.
func csvRow(ev Event, seq sequence) []any {
	var actorID any
	if ev.ActorID != 0 {
		actorID = ev.ActorID
	}
	reported := ""
	if ev.ReportedByKind != "" {
		reported = ev.ReportedByKind + " " + strconv.FormatInt(ev.ReportedByID, 10) + " " + ev.ReportedByName
	}
	return []any{ev.ID, ev.OccurredAt, ev.ActorKind, actorID, ev.ActorName, string(ev.Action), string(ev.Category),
		ev.EntityType, ev.EntityID, ev.Description, jsonText(ev.Old), jsonText(ev.New), ev.IP, ev.UserAgent, ev.RequestID, reported, seq.cell()}
}

func jsonText(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%s", v)
}

func exportCSV(ctx context.Context, db *store.DB, workspaceID int64, f Filter, loc *time.Location, w io.Writer) (int, error) {
	table, err := export.NewCSV(w, csvColumns, loc)
	if err != nil {
		return 0, err
	}
	n, err := exportEvents(ctx, db, workspaceID, f, CSV, 0, func(ev Event, seq sequence) error {
		return table.WriteRow(csvRow(ev, seq))
	})
	if err != nil {
		// Not closed: what is still buffered never reaches w, so an error
		// before the first flush can still be answered in full.
		return n, err
	}
	return n, table.Close()
}

// pdfColumns are fewer than the CSV's, to stay readable on a page.
var pdfColumns = []export.Column{
	{Title: "Time", Kind: export.Time, Width: 17}, {Title: "Actor", Kind: export.Text, Width: 16},
	{Title: "Action", Kind: export.Text, Width: 12}, {Title: "Entity", Kind: export.Text, Width: 16},
	{Title: "Description", Kind: export.Text, Width: 30}, {Title: "Changes", Kind: export.Text, Width: 40},
	{Title: "IP address", Kind: export.Text, Width: 14}, {Title: "Ledger sequence", Kind: export.Integer, Width: 10},
}

// pdfRow is an event as a row of pdfColumns, for people: the record it is
// about and the records its changes point at by name, as the Activity Log
// page shows them ("item BOLT-M8", "Location: WH1/A-01 → WH2"), where the
// CSV keeps the seed's entity type and id for machines.
func pdfRow(r Readable, seq sequence) []any {
	ev := r.Event
	entity := strings.TrimSpace(ev.EntityType + " " + ev.EntityID)
	if r.Subject.Name != "" {
		entity = kindWord(ev.EntityType) + " " + r.Subject.Name
	}
	return []any{ev.OccurredAt, ev.ActorName + " (" + ev.ActorKind + ")", string(ev.Action), entity, ev.Description,
		fieldChangesText(r.Changes), ev.IP, seq.cell()}
}

// fieldChangesText is changes as "field: before → after" lines.
func fieldChangesText(changes []FieldChange) string { return ChangesText(changes, "\n") }

// ChangesText is changes as "field: before → after" lines joined by sep,
// each field in words when it has a Label.
func ChangesText(changes []FieldChange, sep string) string {
	var lines []string
	for _, c := range changes {
		if c.Label != "" {
			c.Field = c.Label
		}
		switch {
		case c.Field == "" && c.Before == "" && c.After == "":
		case c.Field == "":
			lines = append(lines, c.Before+" → "+c.After)
		case !c.HadBefore:
			lines = append(lines, c.Field+": "+c.After)
		case !c.HasAfter:
			lines = append(lines, c.Field+": "+c.Before+" → (removed)")
		default:
			lines = append(lines, c.Field+": "+c.Before+" → "+c.After)
		}
	}
	return strings.Join(lines, sep)
}

func exportPDF(ctx context.Context, db *store.DB, workspaceID int64, f Filter, loc *time.Location, w io.Writer) (int, error) {
	filters := f.Describe()
	if len(filters) == 0 {
		filters = []string{"All events"}
	}
	filters = append(filters, "Time zone: "+loc.String())
	// The PDF is built in memory and written at the end, so an overflow can
	// still be answered with an error instead of a truncated document.
	var buf bytes.Buffer
	table, err := export.NewPDF(&buf, pdfColumns, loc, export.PDFMeta{Title: "Activity log", Filters: filters, Generated: time.Now()})
	if err != nil {
		return 0, err
	}
	// Names are looked up a batch of events at a time, as the page does.
	var batch []Event
	var seqs []sequence
	named := func() error {
		names, err := lookUpNames(ctx, db, workspaceID, batch)
		if err != nil {
			return err
		}
		for i, ev := range batch {
			if err := table.WriteRow(pdfRow(names.Readable(ev), seqs[i])); err != nil {
				return err
			}
		}
		batch, seqs = batch[:0], seqs[:0]
		return nil
	}
	n, err := exportEvents(ctx, db, workspaceID, f, PDF, export.MaxPDFRows+1, func(ev Event, seq sequence) error {
		batch, seqs = append(batch, ev), append(seqs, seq)
		if len(batch) < exportBatch {
			return nil
		}
		return named()
	})
	if err == nil {
		err = named()
	}
	if errors.Is(err, export.ErrTooManyRows) {
		return n, fault.New(fault.Invalid, "more than %d events match; narrow the filters or export CSV", export.MaxPDFRows)
	}
	if err != nil {
		return n, err
	}
	if err := table.Close(); err != nil {
		return n, err
	}
	_, err = w.Write(buf.Bytes())
	return n, err
}

// exportBatch is how many events an export reads per query: memory stays at
// one batch however long the export, and no read snapshot is held open for
// the whole download.
const exportBatch = 500

// sequence is an event's place in its workspace's ledger, if it is sealed.
type sequence struct {
	n      int64
	sealed bool
}

// cell is the sequence as an export cell: empty until sealed.
func (s sequence) cell() any {
	if !s.sealed {
		return nil
	}
	return s.n
}

// ledgerSequences reads the ledger sequences of those of the workspace's
// events ids that are sealed, in one query. (The ledger package, which
// imports this one, owns the table; this reads it directly.)
func ledgerSequences(ctx context.Context, db *store.DB, workspaceID int64, ids []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	w := store.NewWhere("workspace_id = ?", workspaceID).And("log = 'activity_events'").And(store.In(db, "entry_id", ids))
	rows, err := db.Read().QueryContext(ctx, `SELECT entry_id, seq FROM ledger_leaves WHERE `+w.String(), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("activity: ledger sequences: %w", err)
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

// exportEvents streams every event of workspaceID matching f (its paging
// ignored), newest first, with its ledger sequence, to fn, stopping after
// maxRows (0: no cap) or at fn's first error, and then records an EXPORT
// event with the format and the number of rows written, also when the
// export stopped early. It returns the number of rows written.
func exportEvents(ctx context.Context, db *store.DB, workspaceID int64, f Filter, format ExportFormat, maxRows int, fn func(Event, sequence) error) (int, error) {
	page := f
	page.Skip, page.After, page.Limit = 0, nil, exportBatch
	n := 0
	var streamErr error
	for streamErr == nil {
		res, err := query(ctx, db, workspaceID, page)
		if err != nil {
			streamErr = err
			break
		}
		// One lookup per batch, after its events were read: an event
		// sealed in between shows its sequence, one not sealed yet none.
		ids := make([]int64, len(res.Events))
		for i, ev := range res.Events {
			ids[i] = ev.ID
		}
		seqs, err := ledgerSequences(ctx, db, workspaceID, ids)
		if err != nil {
			streamErr = err
			break
		}
		for _, ev := range res.Events {
			if maxRows > 0 && n >= maxRows {
				break
			}
			seq, sealed := seqs[ev.ID]
			if streamErr = fn(ev, sequence{n: seq, sealed: sealed}); streamErr != nil {
				break
			}
			n++
		}
		if res.Next == nil || (maxRows > 0 && n >= maxRows) {
			break
		}
		page.After = res.Next
	}
	vals := f.values()
	vals["format"], vals["rows"], vals["complete"] = format, n, streamErr == nil
	desc := fmt.Sprintf("exported %d activity events as %s", n, format)
	// The record of the export must survive a client that hung up midway.
	recordErr := RecordNow(context.WithoutCancel(ctx), db, Event{Action: Export, Category: Audit, EntityType: "activity_events",
		New: vals, Description: desc})
	if streamErr != nil {
		return n, streamErr
	}
	return n, recordErr
}
