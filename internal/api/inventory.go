package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/download"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func (a *API) registerInventory(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v1/items", a.listItems)
	a.handle(mux, "POST /api/v1/items", fromBody(a.cfg.DB, actor.ManageCatalog, http.StatusCreated, inventory.CreateItem))
	a.handle(mux, "GET /api/v1/items/{id}", readByID(a.cfg.DB, inventory.GetItem, actor.ViewInventory, actor.UseStation))
	a.handle(mux, "PATCH /api/v1/items/{id}", byIDFromBody(a.cfg.DB, actor.ManageCatalog, http.StatusOK, inventory.UpdateItem))
	a.handle(mux, "DELETE /api/v1/items/{id}", a.deleteItem)
	a.handle(mux, "GET /api/v1/items/{id}/history", a.itemHistory)
	a.handle(mux, "GET /api/v1/locations", a.listLocations)
	a.handle(mux, "POST /api/v1/locations", fromBody(a.cfg.DB, actor.ManageCatalog, http.StatusCreated, inventory.CreateLocation))
	a.handle(mux, "GET /api/v1/locations/{id}", readByID(a.cfg.DB, inventory.GetLocation, actor.ViewInventory, actor.UseStation))
	a.handle(mux, "GET /api/v1/inventory/records", a.listRecords)
	a.handle(mux, "POST /api/v1/inventory/records", fromBody(a.cfg.DB, actor.MoveStock, http.StatusCreated, inventory.CreateRecord))
	a.handle(mux, "GET /api/v1/inventory/records/{id}", readByID(a.cfg.DB, inventory.GetRecord, actor.ViewInventory))
	a.handle(mux, "PATCH /api/v1/inventory/records/{id}", byIDFromBody(a.cfg.DB, actor.MoveStock, http.StatusOK, inventory.UpdateRecord))
	a.handle(mux, "DELETE /api/v1/inventory/records/{id}", a.deleteRecord)
	for path, kind := range movementPaths {
		a.handle(mux, "POST /api/v1/inventory/"+path, a.movement(kind))
	}
	a.handle(mux, "POST /api/v1/inventory/movements", a.movementBatch)
	// The station screen's rules for collecting a batch initialize, for a
	// client that keeps its own draft: nothing is stored.
	a.handle(mux, "POST /api/v1/inventory/initializations/draft-lines", fromBody(a.cfg.DB, actor.MoveStock, http.StatusOK, inventory.AddToDraft))
	a.handle(mux, "POST /api/v1/inventory/imports", a.bulkImport)
	a.handle(mux, "GET /api/v1/inventory/log", a.listLog)
	a.handle(mux, "GET /api/v1/inventory/log/export", a.exportLog)
	a.handle(mux, "GET /api/v1/inventory/stock", a.stock)
	a.handle(mux, "GET /api/v1/inventory/stock/diff", a.stockDiff)
}

// movementPaths maps each single-movement endpoint to the batch "type".
var movementPaths = map[string]string{
	"receipts": "receipt", "issues": "issue", "moves": "move", "splits": "split", "merges": "merge",
	"initializations": "initialize", "corrections": "correction", "reconciliations": "reconciliation",
}

// newMovement returns an empty movement of the given type, to decode into.
func newMovement(kind string) (inventory.Movement, bool) {
	switch kind {
	case "receipt":
		return &inventory.Receipt{}, true
	case "issue":
		return &inventory.Issue{}, true
	case "move":
		return &inventory.Move{}, true
	case "split":
		return &inventory.Split{}, true
	case "merge":
		return &inventory.Merge{}, true
	case "initialize":
		return &inventory.Initialize{}, true
	case "correction":
		return &inventory.Correction{}, true
	case "reconciliation":
		return &inventory.Reconciliation{}, true
	}
	return nil, false
}

func (a *API) workspaceZone(r *http.Request) (*time.Location, error) {
	ws, err := workspace.Get(r.Context(), a.cfg.DB)
	if err != nil {
		return nil, err
	}
	return ws.Settings.Location(), nil
}

func queryID(r *http.Request, name string) (int64, error) {
	raw := strings.TrimSpace(r.URL.Query().Get(name))
	if raw == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.Field(name, "must be a positive whole number")
	}
	return id, nil
}

func (a *API) listItems(w http.ResponseWriter, r *http.Request) error {
	_, err := actor.Require(r.Context(), actor.ViewInventory)
	if err != nil {
		return err
	}
	items, err := inventory.ListItems(r.Context(), a.cfg.DB, r.URL.Query().Get("q"), 1000)
	if err != nil {
		return err
	}
	return list(w, items)
}

func (a *API) deleteItem(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if err := inventory.DeleteItem(r.Context(), a.cfg.DB, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) itemHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	before, err := inventory.ParseCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	page, err := inventory.ItemHistory(r.Context(), a.cfg.DB, id, before, int(limit))
	if err != nil {
		return err
	}
	return a.writePage(w, r, page)
}

func (a *API) listLocations(w http.ResponseWriter, r *http.Request) error {
	_, err := actor.RequireAny(r.Context(), actor.ViewInventory, actor.UseStation)
	if err != nil {
		return err
	}
	locs, err := inventory.ListLocations(r.Context(), a.cfg.DB, r.URL.Query().Get("archived") == "true")
	if err != nil {
		return err
	}
	return list(w, locs)
}

func (a *API) listRecords(w http.ResponseWriter, r *http.Request) error {
	_, err := actor.Require(r.Context(), actor.ViewInventory)
	if err != nil {
		return err
	}
	var f inventory.RecordFilter
	if f.ItemID, err = queryID(r, "item_id"); err != nil {
		return err
	}
	if f.LocationID, err = queryID(r, "location_id"); err != nil {
		return err
	}
	f.WithEmpty = r.URL.Query().Get("empty") == "true"
	recs, err := inventory.ListRecords(r.Context(), a.cfg.DB, f)
	if err != nil {
		return err
	}
	return list(w, recs)
}

func (a *API) deleteRecord(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	o := inventory.Options{Reason: r.URL.Query().Get("reason")}
	res, err := inventory.DeleteRecord(r.Context(), a.cfg.DB, id, o)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, res)
}

// movement handles one single-movement endpoint.
func (a *API) movement(kind string) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := actor.Require(r.Context(), actor.MoveStock); err != nil {
			return err
		}
		m, _ := newMovement(kind)
		if err := DecodeJSON(w, r, m); err != nil {
			return err
		}
		res, err := inventory.Apply(r.Context(), a.cfg.DB, m)
		if err != nil {
			return err
		}
		return WriteJSON(w, http.StatusCreated, res)
	}
}

// movementBatch applies up to 100 movements in one transaction:
// {"movements": [{"type": "receipt", ...}, {"type": "issue", ...}]}.
func (a *API) movementBatch(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.MoveStock); err != nil {
		return err
	}
	var in struct {
		Movements []json.RawMessage `json:"movements"`
	}
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if len(in.Movements) > inventory.MaxBatch {
		return fault.Field("movements", fmt.Sprintf("at most %d movements in one batch", inventory.MaxBatch))
	}
	ms := make([]inventory.Movement, 0, len(in.Movements))
	for i, raw := range in.Movements {
		m, err := decodeBatchMovement(raw)
		if err != nil {
			e, _ := fault.As(err)
			field := fmt.Sprintf("movements[%d]", i)
			return &fault.Error{Kind: fault.Malformed, Message: field + ": " + e.Message, Fields: map[string]string{field: e.Message}}
		}
		ms = append(ms, m)
	}
	res, err := inventory.Apply(r.Context(), a.cfg.DB, ms...)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, res)
}

func decodeBatchMovement(raw json.RawMessage) (inventory.Movement, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fault.New(fault.Malformed, "must be a JSON object")
	}
	var kind string
	if err := json.Unmarshal(fields["type"], &kind); err != nil {
		return nil, fault.New(fault.Malformed, "needs a \"type\": receipt, issue, move, split, merge, initialize, correction or reconciliation")
	}
	m, ok := newMovement(kind)
	if !ok {
		return nil, fault.New(fault.Malformed, "unknown type %q", kind)
	}
	delete(fields, "type")
	body, _ := json.Marshal(fields)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		return nil, malformedJSON(err)
	}
	return m, nil
}

type logAnswer struct {
	Count      int              `json:"count"`
	Data       []sequencedEntry `json:"data"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

// writePage answers a page of the change log, each sealed entry with its
// sequence number in the ledger.
func (a *API) writePage(w http.ResponseWriter, r *http.Request, p inventory.LogPage) error {
	entries, err := a.withSequences(r, p.Entries)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, logAnswer{Count: len(entries), Data: entries, NextCursor: p.NextCursor})
}

func (a *API) listLog(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ViewInventory); err != nil {
		return err
	}
	loc, err := a.workspaceZone(r)
	if err != nil {
		return err
	}
	f, err := inventory.LogFilterFromQuery(r.URL.Query(), loc)
	if err != nil {
		return err
	}
	page, err := inventory.ListLog(r.Context(), a.cfg.DB, f)
	if err != nil {
		return err
	}
	return a.writePage(w, r, page)
}

func (a *API) exportLog(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ViewInventory); err != nil {
		return err
	}
	loc, err := a.workspaceZone(r)
	if err != nil {
		return err
	}
	f, err := inventory.LogFilterFromQuery(r.URL.Query(), loc)
	if err != nil {
		return err
	}
	format, err := inventory.ParseExportFormat(r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	f.Before, f.Limit = 0, 0
	file := download.File{Name: download.Stamped("inventory-log", string(format), time.Now()), ContentType: format.ContentType()}
	return download.Stream(w, r, a.cfg.Logger, file, func(out io.Writer) error {
		_, err := inventory.ExportLog(r.Context(), a.cfg.DB, f, format, out)
		return err
	})
}

// stockQuery reads what the stock questions share: the workspace's time
// zone (for the moments asked about) and the item and location narrowing.
func (a *API) stockQuery(r *http.Request) (*time.Location, inventory.StockFilter, error) {
	var f inventory.StockFilter
	if _, err := actor.Require(r.Context(), actor.ViewInventory); err != nil {
		return nil, f, err
	}
	loc, err := a.workspaceZone(r)
	if err != nil {
		return nil, f, err
	}
	if f.ItemID, err = queryID(r, "item_id"); err != nil {
		return nil, f, err
	}
	if f.LocationID, err = queryID(r, "location_id"); err != nil {
		return nil, f, err
	}
	return loc, f, nil
}

func (a *API) stock(w http.ResponseWriter, r *http.Request) error {
	loc, f, err := a.stockQuery(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	asOf, err := inventory.ParseAsOf("as_of", q.Get("as_of"), loc)
	if err != nil {
		return err
	}
	shownAt, err := inventory.ParseAsOf("shown_at", q.Get("shown_at"), loc)
	if err != nil {
		return err
	}
	var levels []inventory.Level
	switch {
	case !asOf.IsZero() && !shownAt.IsZero():
		return fault.Field("shown_at", "give as_of or shown_at, not both")
	case !asOf.IsZero():
		levels, err = inventory.StockAsOf(r.Context(), a.cfg.DB, asOf, f)
	case !shownAt.IsZero():
		levels, err = inventory.StockAsShown(r.Context(), a.cfg.DB, shownAt, f)
	default:
		levels, err = inventory.CurrentStock(r.Context(), a.cfg.DB, f)
	}
	if err != nil {
		return err
	}
	return list(w, levels)
}

func (a *API) stockDiff(w http.ResponseWriter, r *http.Request) error {
	loc, f, err := a.stockQuery(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, err := inventory.ParseAsOf("from", q.Get("from"), loc)
	if err != nil {
		return err
	}
	to, err := inventory.ParseAsOf("to", q.Get("to"), loc)
	if err != nil {
		return err
	}
	if from.IsZero() {
		return fault.Field("from", "required")
	}
	if to.IsZero() {
		to = time.Now()
	}
	diffs, err := inventory.StockDiff(r.Context(), a.cfg.DB, from, to, f)
	if err != nil {
		return err
	}
	return list(w, diffs)
}

// bulkImport applies a CSV or XLSX bulk-update file sent as the request body
// (Content-Type text/csv or the XLSX type): all rows or none; the problem's
// "errors" name each bad row ("row 7").
func (a *API) bulkImport(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.MoveStock); err != nil {
		return err
	}
	rows, err := inventory.ParseBulkFile(http.MaxBytesReader(w, r.Body, inventory.MaxImportBytes+1))
	if err != nil {
		return err
	}
	o := inventory.Options{Reason: r.URL.Query().Get("reason"), Reference: "import"}
	if ref := r.URL.Query().Get("reference"); ref != "" {
		o.Reference = ref
	}
	res, err := inventory.BulkUpdate(r.Context(), a.cfg.DB, rows, o)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, map[string]any{"rows": len(rows), "entries": res.Entries, "records": res.Records})
}
