package activity

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/export"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// WriteReport writes the whole report in (every row, whatever in.After and
// in.Limit say) to w as CSV or PDF, times in the workspace's zone, and
// records the download as an EXPORT event with the number of rows. Both
// files start with the report's title, filters and generation time (the
// CSV as "name,value" lines and a blank line before its table). Refusals
// come before the first byte; a PDF is limited to export.MaxPDFRows rows.
func WriteReport(ctx context.Context, db *store.DB, in ReportInput, clock ReportClock, format ExportFormat, w io.Writer) (int, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return 0, err
	}
	if format != CSV && format != PDF {
		return 0, fault.Field("format", "must be csv or pdf")
	}
	loc := clock.Location()
	rep := ComplianceReport{Kind: in.Kind, From: in.From, To: in.To, TimeZone: loc.String(), GeneratedAt: time.Now()}
	if in.Kind == UserActivityReport {
		if rep, err = buildReport(ctx, db, a.WorkspaceID, in, clock); err != nil {
			return 0, err
		}
	} else if in.from.IsZero() || !validKind(in.Kind) {
		return 0, fault.Field("report", "choose a report and its dates")
	}
	cols, pdfCols := reportColumns(in.Kind)
	var buf bytes.Buffer
	var table export.TableWriter
	if format == CSV {
		if err := writeCSVPreamble(w, rep, loc); err != nil {
			return 0, err
		}
		table, err = export.NewCSV(w, cols, loc)
	} else {
		// Built in memory and written at the end, so an overflow is still an
		// error answer instead of a truncated document.
		table, err = export.NewPDF(&buf, pdfCols, loc, export.PDFMeta{Title: rep.Title(), Filters: rep.Filters(), Generated: rep.GeneratedAt})
	}
	if err != nil {
		return 0, err
	}
	n := 0
	write := func(row []any) error {
		if err := table.WriteRow(row); err != nil {
			return err
		}
		n++
		return nil
	}
	var streamErr error
	switch in.Kind {
	case UserActivityReport:
		for _, u := range rep.Users {
			if streamErr = write(userActivityRow(u, format)); streamErr != nil {
				break
			}
		}
		if streamErr == nil && rep.UnknownAccounts.Attempts > 0 {
			streamErr = write(unknownAccountsRow(rep.UnknownAccounts, format))
		}
	case DataAccessReport:
		streamErr = eachReportEvent(ctx, db, a.WorkspaceID, in, dataAccessStreams(), func(ev Event) error {
			return write(accessRow(accessEntry(ev)))
		})
	case ConfigChangesReport:
		streamErr = eachReportEvent(ctx, db, a.WorkspaceID, in, configStreams(), func(ev Event) error {
			return write(configRow(configChange(ev)))
		})
	}
	if errors.Is(streamErr, export.ErrTooManyRows) {
		streamErr = fault.New(fault.Invalid, "more than %d rows; choose fewer days or download CSV", export.MaxPDFRows)
	}
	if streamErr == nil {
		streamErr = table.Close()
		if streamErr == nil && format == PDF {
			_, streamErr = w.Write(buf.Bytes())
		}
	}
	vals := in.values()
	delete(vals, "cursor")
	vals["format"], vals["rows"], vals["complete"] = format, n, streamErr == nil
	// The record of the download must survive a client that hung up midway.
	recordErr := RecordNow(context.WithoutCancel(ctx), db, Event{Action: Export, Category: Audit, EntityType: reportEntity,
		EntityID: string(in.Kind), New: vals,
		Description: fmt.Sprintf("exported the %s for %s to %s as %s (%d rows)", strings.ToLower(in.Kind.Title()), in.From, in.To, format, n)})
	if streamErr != nil {
		return n, streamErr
	}
	return n, recordErr
}

func validKind(k ReportKind) bool {
	for _, v := range ReportKinds() {
		if v == k {
			return true
		}
	}
	return false
}

// writeCSVPreamble writes the report's framing before its table.
func writeCSVPreamble(w io.Writer, rep ComplianceReport, loc *time.Location) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	lines := [][]string{{"Report", rep.Title()}, {"From", rep.From}, {"To", rep.To + " (inclusive)"}, {"Time zone", rep.TimeZone},
		{"Generated", rep.GeneratedAt.In(loc).Format(time.RFC3339)}, {}}
	if err := cw.WriteAll(lines); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// userActivityActions are the action types the user activity CSV gives a
// column each, in the order of Actions.
func userActivityActions() []Action { return Actions() }

// reportColumns are the CSV and PDF columns of a report.
func reportColumns(kind ReportKind) (csvCols, pdfCols []export.Column) {
	who := []export.Column{{Title: "Actor", Kind: export.Text, Width: 18}, {Title: "Actor kind", Kind: export.Text, Width: 8}}
	switch kind {
	case UserActivityReport:
		csvCols = append(csvCols, who...)
		csvCols = append(csvCols, export.Column{Title: "Actor ID", Kind: export.Integer},
			export.Column{Title: "Logins", Kind: export.Integer}, export.Column{Title: "Failed logins", Kind: export.Integer},
			export.Column{Title: "Exports", Kind: export.Integer}, export.Column{Title: "Actions", Kind: export.Integer},
			export.Column{Title: "After-hours actions", Kind: export.Integer}, export.Column{Title: "Last active", Kind: export.Time})
		for _, a := range userActivityActions() {
			csvCols = append(csvCols, export.Column{Title: string(a), Kind: export.Integer})
		}
		pdfCols = append(pdfCols, who...)
		pdfCols = append(pdfCols, export.Column{Title: "Logins", Kind: export.Integer, Width: 7},
			export.Column{Title: "Failed logins", Kind: export.Integer, Width: 7}, export.Column{Title: "Exports", Kind: export.Integer, Width: 7},
			export.Column{Title: "Actions", Kind: export.Integer, Width: 7}, export.Column{Title: "Actions by type", Kind: export.Text, Width: 30},
			export.Column{Title: "After hours", Kind: export.Integer, Width: 7}, export.Column{Title: "Last active", Kind: export.Time, Width: 19})
	case DataAccessReport:
		csvCols = []export.Column{{Title: "Time", Kind: export.Time, Width: 19}, who[0], who[1], {Title: "Action", Kind: export.Text, Width: 8},
			{Title: "Table", Kind: export.Text, Width: 14}, {Title: "Record", Kind: export.Text, Width: 8},
			{Title: "Description", Kind: export.Text, Width: 36}, {Title: "Rows", Kind: export.Integer, Width: 7},
			{Title: "Format", Kind: export.Text, Width: 6}, {Title: "IP address", Kind: export.Text, Width: 12}, {Title: "Event ID", Kind: export.Integer, Width: 8}}
		pdfCols = csvCols
	case ConfigChangesReport:
		csvCols = []export.Column{{Title: "Time", Kind: export.Time, Width: 19}, who[0], who[1], {Title: "Action", Kind: export.Text, Width: 16},
			{Title: "Table", Kind: export.Text, Width: 12}, {Title: "Record", Kind: export.Text, Width: 7},
			{Title: "Description", Kind: export.Text, Width: 26}, {Title: "Before → after", Kind: export.Text, Width: 40},
			{Title: "IP address", Kind: export.Text, Width: 12}, {Title: "Event ID", Kind: export.Integer, Width: 8}}
		pdfCols = csvCols
	}
	return csvCols, pdfCols
}

// ActionsText is the party's actions by type as "UPDATE 30 · CREATE 12",
// busiest first.
func (u UserActivity) ActionsText() string {
	type kv struct {
		k string
		n int64
	}
	var list []kv
	for k, n := range u.ByAction {
		if n > 0 {
			list = append(list, kv{k, n})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].k < list[j].k
	})
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = fmt.Sprintf("%s %d", e.k, e.n)
	}
	return strings.Join(parts, " · ")
}

func userActivityRow(u UserActivity, format ExportFormat) []any {
	var last any = time.Time{}
	if u.LastActive != nil {
		last = *u.LastActive
	}
	if format == PDF {
		return []any{u.Name, u.ActorKind, u.Logins, u.FailedLogins, u.Exports, u.Actions, u.ActionsText(), u.AfterHours, last}
	}
	var id any
	if u.ActorID != 0 {
		id = u.ActorID
	}
	row := []any{u.Name, u.ActorKind, id, u.Logins, u.FailedLogins, u.Exports, u.Actions, u.AfterHours, last}
	for _, a := range userActivityActions() {
		row = append(row, u.ByAction[string(a)])
	}
	return row
}

func unknownAccountsRow(f UnknownAccountFailures, format ExportFormat) []any {
	name := fmt.Sprintf("E-mails that match no user (%d)", f.Emails)
	if format == PDF {
		return []any{name, "anonymous", int64(0), f.Attempts, int64(0), int64(0), "", int64(0), time.Time{}}
	}
	row := []any{name, "anonymous", nil, int64(0), f.Attempts, int64(0), int64(0), int64(0), time.Time{}}
	for range userActivityActions() {
		row = append(row, int64(0))
	}
	return row
}

func accessRow(e AccessEntry) []any {
	var rows any
	if e.Rows != nil {
		rows = *e.Rows
	}
	return []any{e.At, e.ActorName, e.ActorKind, string(e.Action), e.EntityType, e.EntityID, e.Description, rows, e.Format, e.IP, e.ID}
}

func configRow(c ConfigChange) []any {
	return []any{c.At, c.ActorName, c.ActorKind, string(c.Action), c.EntityType, c.EntityID, c.Description, c.ChangesText(), c.IP, c.ID}
}
