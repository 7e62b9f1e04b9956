package web

import (
	"io"
	"net/http"
	"path"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/download"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

// importTemplate offers the bulk-update file to fill in, as CSV or XLSX:
// the header row the importer reads and one example row.
func (wb *Web) importTemplate(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.MoveStock); err != nil {
		return err
	}
	types := map[string]string{"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
	format := path.Ext(r.URL.Path)[1:]
	ct, ok := types[format]
	if !ok {
		return fault.New(fault.NotFound, "templates come as template.csv or template.xlsx")
	}
	return download.Stream(w, r, wb.cfg.Logger, download.File{Name: "bulk-update-template." + format, ContentType: ct},
		func(out io.Writer) error { return inventory.WriteBulkTemplate(out, format) })
}
