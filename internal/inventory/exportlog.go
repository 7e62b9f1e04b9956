package inventory

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/export"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// ExportFormat is a file format of the change-log export.
type ExportFormat string

const (
	XLSX ExportFormat = "xlsx"
	CSV  ExportFormat = "csv"
)

// ParseExportFormat accepts xlsx (the default) or csv.
func ParseExportFormat(s string) (ExportFormat, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "xlsx":
		return XLSX, nil
	case "csv":
		return CSV, nil
	}
	return "", fault.Field("format", "must be xlsx or csv")
}

// ContentType is the MIME type of the format.
func (f ExportFormat) ContentType() string {
	if f == CSV {
		return "text/csv; charset=utf-8"
	}
	return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
}

// exportColumns puts the seed's columns first (SKU, Quantity, Unit, Action
// type, User, Station, Timestamp) and the rest of each entry after them.
// Timestamp is the recorded time; Effective at is when the movement happened.
var exportColumns = []export.Column{
	{Title: "SKU", Kind: export.Text, Width: 16},
	{Title: "Quantity", Kind: export.Number},
	{Title: "Unit", Kind: export.Text, Width: 8},
	{Title: "Action type", Kind: export.Text, Width: 16},
	{Title: "User", Kind: export.Text},
	{Title: "Station", Kind: export.Text},
	{Title: "Timestamp", Kind: export.Time},
	{Title: "API key", Kind: export.Text},
	{Title: "Effective at", Kind: export.Time},
	{Title: "Location", Kind: export.Text, Width: 20},
	{Title: "Lot", Kind: export.Text, Width: 12},
	{Title: "Record level after", Kind: export.Number},
	{Title: "Location level after", Kind: export.Number},
	{Title: "Movement", Kind: export.Text, Width: 14},
	{Title: "Reason", Kind: export.Text, Width: 30},
	{Title: "Reference", Kind: export.Text, Width: 20},
	{Title: "Idempotency key", Kind: export.Text, Width: 20},
	{Title: "Record", Kind: export.Integer, Width: 10},
	{Title: "Entry", Kind: export.Integer, Width: 10},
}

// ExportLog streams every entry matching f (newest first) to w as XLSX or
// CSV, with times in the workspace's time zone, and records the export in
// the activity trail. Rows go from the query straight to the writer, so
// memory stays bounded whatever the size.
func ExportLog(ctx context.Context, db *store.DB, f LogFilter, format ExportFormat, w io.Writer) (rows int, err error) {
	a, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return 0, err
	}
	if err := f.validate(); err != nil {
		return 0, err
	}
	// Every refusal must come before the first byte: after it, an error can
	// only cut the download short.
	if err := f.resolveSKU(ctx, db.Read(), a.WorkspaceID); err != nil {
		return 0, err
	}
	ws, err := workspace.Get(ctx, db.Read(), a.WorkspaceID)
	if err != nil {
		return 0, err
	}
	loc := ws.Settings.Location()
	var tw export.TableWriter
	if format == CSV {
		tw, err = export.NewCSV(w, exportColumns, loc)
	} else {
		tw, err = export.NewXLSX(w, exportColumns, loc, "Change log")
	}
	if err != nil {
		return 0, err
	}
	row := make([]any, len(exportColumns))
	err = scanLog(ctx, db.Read(), a.WorkspaceID, f, 0, func(e Entry) error {
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
		row[0], row[1], row[2], row[3], row[4], row[5], row[6] = e.SKU, e.ChangeText(), e.Unit, string(e.Action), user, station, e.RecordedAt
		row[7], row[8], row[9], row[10], row[11], row[12] = key, e.EffectiveAt, e.LocationPath, e.Lot, e.RecordLevelText(), e.LocationLevelText()
		row[13], row[14], row[15], row[16], row[17], row[18] = e.Movement, e.Reason, e.Reference, e.IdempotencyKey, e.RecordID, e.ID
		rows++
		return tw.WriteRow(row)
	})
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rows, err
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := activity.Record(ctx, tx, activity.Event{Action: activity.Export, Category: activity.Inventory, EntityType: "inventory_log",
			New: map[string]any{"format": string(format), "rows": rows}, Description: fmt.Sprintf("inventory change log exported (%s, %d rows)", format, rows)})
		return err
	})
	return rows, err
}
