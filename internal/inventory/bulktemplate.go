package inventory

import (
	"fmt"
	"io"

	"github.com/stocktrail/stocktrail/internal/export"
)

// bulkTemplateColumns are the columns of a bulk-update file in the order the
// template offers them, with one example row: the importer (bulkRows) reads
// these names, so the template cannot drift from what it accepts.
var bulkTemplateColumns = []struct{ name, example string }{
	{"sku", "BOLT-M8"},
	{"location", "WH1/A-01"},
	{"quantity", "120"},
	{"lot", "L2026-03"},
	{"reason", "Counted at the year-end stocktake"},
}

// WriteBulkTemplate writes a bulk-update template, the header row and one
// example row, as "csv" or "xlsx". Every cell is text, so the example reads
// back exactly as written.
func WriteBulkTemplate(w io.Writer, format string) error {
	cols := make([]export.Column, len(bulkTemplateColumns))
	row := make([]any, len(bulkTemplateColumns))
	for i, c := range bulkTemplateColumns {
		if !bulkColumns[c.name] {
			return fmt.Errorf("inventory: template column %q is not one the importer reads", c.name)
		}
		cols[i], row[i] = export.Column{Title: c.name, Kind: export.Text}, c.example
	}
	var tw export.TableWriter
	var err error
	switch format {
	case "csv":
		tw, err = export.NewCSV(w, cols, nil)
	case "xlsx":
		tw, err = export.NewXLSX(w, cols, nil, "Bulk update")
	default:
		return fmt.Errorf("inventory: no %q template", format)
	}
	if err != nil {
		return err
	}
	if err := tw.WriteRow(row); err != nil {
		return err
	}
	return tw.Close()
}
