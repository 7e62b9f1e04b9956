package web

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/download"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/param"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func (wb *Web) registerInventory(mux *http.ServeMux) {
	mux.HandleFunc("GET /inventory", wb.page(wb.stockPage))
	mux.HandleFunc("POST /inventory/items", wb.page(wb.createItem))
	mux.HandleFunc("POST /inventory/locations", wb.page(wb.createLocation))
	mux.HandleFunc("GET /inventory/items/{id}", wb.page(wb.itemPage))
	mux.HandleFunc("GET /inventory/items/{id}/{action}", wb.page(wb.itemActionPage))
	mux.HandleFunc("POST /inventory/items/{id}/{action}", wb.page(wb.postItemAction))
	mux.HandleFunc("POST /inventory/movements", wb.page(wb.postMovement))
	mux.HandleFunc("POST /inventory/records/{id}/delete", wb.page(wb.deleteRecord))
	mux.HandleFunc("POST /inventory/records/{id}/lot", wb.page(wb.changeLot))
	mux.HandleFunc("GET /inventory/log", wb.page(wb.logPage))
	mux.HandleFunc("GET /inventory/log/export", wb.page(wb.exportLog))
	mux.HandleFunc("GET /inventory/as-of", wb.page(wb.asOfPage))
	mux.HandleFunc("GET /inventory/import", wb.page(wb.importPage))
	mux.HandleFunc("POST /inventory/import", wb.page(wb.postImport))
	mux.HandleFunc("GET /inventory/import/template.csv", wb.page(wb.importTemplate))
	mux.HandleFunc("GET /inventory/import/template.xlsx", wb.page(wb.importTemplate))
}

func (wb *Web) zone(r *http.Request, a actor.Actor) *time.Location {
	ws, err := workspace.Get(r.Context(), wb.cfg.DB)
	if err != nil {
		return time.UTC
	}
	return ws.Settings.Location()
}

// queryInt reads an optional non-negative integer query parameter; a bad
// one is a 400 naming it as a person would (fieldWords), so a page never
// quietly shows everything instead of what the link asked for.
func queryInt(r *http.Request, name string) (int64, error) {
	n, err := param.Int(r.URL.Query(), name)
	e, ok := fault.As(err)
	if !ok {
		return n, err
	}
	said := *e
	said.Message = fieldWords(name) + " " + e.Fields[name]
	// Of the parameters read here only location_id is sent by a filter's
	// control; the others ("offset", "before") come from links or a
	// hand-typed URL, with no control to link the error summary to: a
	// banner says it.
	if name != "location_id" {
		said.Fields = nil
	}
	return 0, &said
}

// catalogue is what the movement forms offer to pick from.
type catalogue struct {
	Items     []inventory.Item
	Locations []inventory.Location
	Kinds     []string
}

func (wb *Web) catalogue(r *http.Request, a actor.Actor) (catalogue, error) {
	items, err := inventory.ListItems(r.Context(), wb.cfg.DB, "", 1000)
	if err != nil {
		return catalogue{}, err
	}
	locs, err := inventory.ListLocations(r.Context(), wb.cfg.DB, false)
	if err != nil {
		return catalogue{}, err
	}
	return catalogue{Items: items, Locations: locs, Kinds: []string{"material", "part", "product"}}, nil
}

type stockView struct {
	catalogue
	Levels     []inventory.Level
	SKU        string
	LocationID int64
	AsOf       string
	// Posted names the form that came back with errors ("receipt", "item"
	// or "location"): only it shows FormErrs, its messages by field, and
	// Errors, the summary at the top.
	Posted   string
	FormErrs map[string]string
	Errors   []actionProblem
}

// stockForms are the stock page's forms by the path they post to, with
// their fields in order.
var stockForms = map[string]struct {
	name   string
	fields []string
}{
	"/inventory/movements": {"receipt", []string{"sku", "location", "lot", "quantity", "effective_at", "reference"}},
	"/inventory/items":     {"item", []string{"sku", "name", "kind", "unit", "scale"}},
	"/inventory/locations": {"location", []string{"parent_id", "kind", "code", "name"}},
}

// stockFieldLabels name the stock page's fields as their labels do.
var stockFieldLabels = map[string]string{"sku": "SKU", "location": "Location", "lot": "Lot", "quantity": "Quantity",
	"effective_at": "Effective at", "reference": "Reference", "name": "Name", "kind": "Kind", "unit": "Unit", "scale": "Decimals",
	"parent_id": "Inside", "code": "Code"}

// formError points the stock page's error summary and field messages at
// the form that was posted.
func (v *stockView) formError(r *http.Request, err error) {
	form, ok := stockForms[r.URL.Path]
	e, isFault := fault.As(err)
	if !ok || !isFault || r.Method != http.MethodPost {
		return
	}
	v.Posted, v.FormErrs = form.name, map[string]string{}
	for field, msg := range e.Fields {
		v.FormErrs[field] = sentence(msg)
	}
	for _, p := range errorSummary(e.Fields, form.fields, stockFieldLabels) {
		label := p.Label
		if label == "" {
			label = sentence(strings.ReplaceAll(p.Field, "_", " "))
		}
		v.Errors = append(v.Errors, actionProblem{Href: "#" + form.name + "-" + p.Field, Text: problemText(label, p.Message)})
	}
	if len(v.Errors) == 0 {
		v.Errors = []actionProblem{{Href: "#" + form.name + "-form", Text: sentence(e.Message)}}
	}
}

func (wb *Web) stockPage(w http.ResponseWriter, r *http.Request) error {
	return wb.showStock(w, r, nil)
}

func (wb *Web) showStock(w http.ResponseWriter, r *http.Request, formErr error) error {
	a, err := actor.Require(r.Context(), actor.ViewInventory)
	if err != nil {
		return err
	}
	v := stockView{SKU: strings.TrimSpace(r.URL.Query().Get("sku")), AsOf: r.URL.Query().Get("as_of")}
	if v.catalogue, err = wb.catalogue(r, a); err != nil {
		return err
	}
	var pageErr error
	v.LocationID, pageErr = queryInt(r, "location_id")
	f := inventory.StockFilter{LocationID: v.LocationID}
	if pageErr == nil && v.SKU != "" {
		it, err := inventory.ItemBySKU(r.Context(), wb.cfg.DB, v.SKU)
		if err != nil {
			pageErr = err
		}
		f.ItemID = it.ID
	}
	if pageErr == nil {
		asOf, err := inventory.ParseAsOf("as_of", v.AsOf, wb.zone(r, a))
		switch {
		case err != nil:
			pageErr = err
		case asOf.IsZero():
			v.Levels, err = inventory.CurrentStock(r.Context(), wb.cfg.DB, f)
		default:
			v.Levels, err = inventory.StockAsOf(r.Context(), wb.cfg.DB, asOf, f)
		}
		if err != nil && fault.KindOf(err) == fault.Internal {
			return err
		}
	}
	if formErr != nil && fault.KindOf(formErr) != fault.Internal {
		v.formError(r, formErr)
		if v.Posted != "" {
			wb.render(w, r, fault.HTTPStatus(fault.KindOf(formErr)), "inventory.html", "Inventory", v, nil)
			return nil
		}
	}
	if formErr == nil {
		formErr = pageErr
	}
	return wb.show(w, r, "inventory.html", "Inventory", v, formErr)
}

func (wb *Web) createItem(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageCatalog); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	scale, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("scale")))
	if err != nil {
		return wb.showStock(w, r, fault.Field("scale", "must be a whole number from 0 to 6"))
	}
	it, err := inventory.CreateItem(r.Context(), wb.cfg.DB, inventory.ItemInput{SKU: r.PostFormValue("sku"), Name: r.PostFormValue("name"),
		Kind: inventory.ItemKind(r.PostFormValue("kind")), Unit: r.PostFormValue("unit"), Scale: &scale,
		MinLevel: inventory.DecimalText(r.PostFormValue("min_level"))})
	if err != nil {
		if fault.KindOf(err) == fault.Internal {
			return err
		}
		return wb.showStock(w, r, err)
	}
	return redirect(w, r, fmt.Sprintf("/inventory/items/%d", it.ID), "Item "+it.SKU+" created")
}

func (wb *Web) createLocation(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageCatalog); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	// The form is on the Stock page and on the Locations tab; a refusal
	// or a success goes back to the one it was sent from.
	fromTab := r.PostFormValue("from") == "locations"
	refuse := func(err error) error {
		if fromTab {
			return wb.showLocations(w, r, err)
		}
		return wb.showStock(w, r, err)
	}
	parent, err := formInt(r, "parent_id")
	if err != nil {
		return refuse(err)
	}
	l, err := inventory.CreateLocation(r.Context(), wb.cfg.DB, inventory.LocationInput{ParentID: parent, Code: r.PostFormValue("code"),
		Name: r.PostFormValue("name"), Kind: inventory.LocationKind(r.PostFormValue("kind"))})
	if err != nil {
		if fault.KindOf(err) == fault.Internal {
			return err
		}
		return refuse(err)
	}
	if fromTab {
		return redirect(w, r, "/inventory/locations", "Location "+l.Path+" created")
	}
	return redirect(w, r, "/inventory", "Location "+l.Path+" created")
}

// movementFromForm builds the movement of kind a form describes. A record
// is named by record_id, or by SKU, location and lot.
func movementFromForm(r *http.Request, kind string, loc *time.Location) (inventory.Movement, error) {
	f := r.PostForm
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	eff, err := inventory.ParseMoment("effective_at", get("effective_at"), loc, false)
	if err != nil {
		return nil, err
	}
	opts := inventory.Options{EffectiveAt: eff, Reason: get("reason"), Reference: get("reference")}
	recordID, err := formInt(r, "record_id")
	if err != nil {
		return nil, err
	}
	ref := inventory.RecordRef{RecordID: recordID, ItemRef: inventory.ItemRef{SKU: get("sku")},
		LocationRef: inventory.LocationRef{Location: get("location")}, Lot: get("lot")}
	qty := inventory.DecimalText(get("quantity"))
	switch kind {
	case "receipt":
		return &inventory.Receipt{ItemRef: ref.ItemRef, LocationRef: ref.LocationRef, Lot: ref.Lot, Quantity: qty, Options: opts}, nil
	case "issue":
		return &inventory.Issue{RecordRef: ref, Quantity: qty, Options: opts}, nil
	case "move":
		return &inventory.Move{RecordRef: ref, ToLocation: get("to_location"), Quantity: qty, Options: opts}, nil
	case "split":
		return &inventory.Split{RecordRef: ref, NewLot: get("new_lot"), Quantity: qty, Options: opts}, nil
	case "correction":
		return &inventory.Correction{RecordRef: ref, Change: inventory.DecimalText(get("change")), Options: opts}, nil
	case "reconciliation":
		return &inventory.Reconciliation{RecordRef: ref, Counted: inventory.DecimalText(get("counted")), Options: opts}, nil
	case "merge":
		into, err := formInt(r, "into_record_id")
		if err != nil {
			return nil, err
		}
		var ids []int64
		for _, raw := range f["record_ids"] {
			id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
			if err != nil || id <= 0 {
				return nil, fault.Field("record_ids", "pick records from the list")
			}
			if id != into {
				ids = append(ids, id)
			}
		}
		return &inventory.Merge{RecordIDs: ids, IntoRecordID: into, Options: opts}, nil
	case "create":
		return &inventory.RecordInput{ItemRef: ref.ItemRef, LocationRef: ref.LocationRef, Lot: ref.Lot, Quantity: qty, Options: opts}, nil
	}
	return nil, fault.Field("kind", "pick a movement")
}

func (wb *Web) postMovement(w http.ResponseWriter, r *http.Request) error {
	a, err := actor.Require(r.Context(), actor.MoveStock)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	kind := strings.TrimSpace(r.PostFormValue("kind"))
	itemPage, _ := strconv.ParseInt(r.PostFormValue("item_page"), 10, 64)
	back := func(err error) error {
		if fault.KindOf(err) == fault.Internal {
			return err
		}
		if act, ok := itemActionOfKind(kind); ok && itemPage > 0 {
			return wb.showItemAction(w, r, itemPage, act, err)
		}
		return wb.showStock(w, r, err)
	}
	m, err := movementFromForm(r, kind, wb.zone(r, a))
	if err != nil {
		return back(err)
	}
	res, err := inventory.Apply(r.Context(), wb.cfg.DB, m)
	if err != nil {
		return back(err)
	}
	msg := movementRecorded(m.Kind(), res)
	if itemPage > 0 {
		return redirect(w, r, fmt.Sprintf("/inventory/items/%d", itemPage), msg)
	}
	return redirect(w, r, "/inventory", msg)
}

type logView struct {
	catalogue
	Entries    []logRow
	Query      url.Values
	Next       string
	ExportXLSX string
	ExportCSV  string
	Actions    []inventory.Action
	Parties    []string
	// PartyGroups are the users, stations and API keys the party picker
	// offers, by kind.
	PartyGroups []partyGroup
}

type partyGroup struct {
	Label, Gone string
	People      []auth.Party
}

// groupParties puts parties under their kind's heading, for optgroups.
func groupParties(list []auth.Party) []partyGroup {
	groups := []partyGroup{{Label: "Users", Gone: "deleted"}, {Label: "Scanning stations", Gone: "revoked"}, {Label: "API keys", Gone: "revoked"}}
	for _, p := range list {
		switch p.Kind {
		case actor.User:
			groups[0].People = append(groups[0].People, p)
		case actor.Station:
			groups[1].People = append(groups[1].People, p)
		case actor.APIKey:
			groups[2].People = append(groups[2].People, p)
		}
	}
	return groups
}

func (wb *Web) logPage(w http.ResponseWriter, r *http.Request) error {
	a, err := actor.Require(r.Context(), actor.ViewInventory)
	if err != nil {
		return err
	}
	v := logView{Query: r.URL.Query(), Actions: inventory.Actions(), Parties: []string{"user", "station", "api_key", "system"}}
	if v.catalogue, err = wb.catalogue(r, a); err != nil {
		return err
	}
	parties, err := wb.cfg.Auth.ListParties(r.Context())
	if err != nil {
		return err
	}
	v.PartyGroups = groupParties(parties)
	filter := url.Values{}
	for k, vals := range r.URL.Query() {
		if k != "cursor" && k != "format" && len(vals) > 0 && vals[0] != "" {
			filter.Set(k, vals[0])
		}
	}
	f, ferr := inventory.LogFilterFromQuery(r.URL.Query(), wb.zone(r, a))
	if ferr == nil {
		if f.Limit == 0 {
			f.Limit = 100
		}
		page, err := inventory.ListLog(r.Context(), wb.cfg.DB, f)
		if err != nil && fault.KindOf(err) == fault.Internal {
			return err
		}
		ferr = err
		if v.Entries, err = wb.logRows(r, page.Entries); err != nil {
			return err
		}
		if page.NextCursor != "" {
			next := url.Values{}
			for k := range filter {
				next.Set(k, filter.Get(k))
			}
			next.Set("cursor", page.NextCursor)
			v.Next = "/inventory/log?" + next.Encode()
		}
	}
	exp := url.Values{}
	for k := range filter {
		if k != "limit" {
			exp.Set(k, filter.Get(k))
		}
	}
	exp.Set("format", "xlsx")
	v.ExportXLSX = "/inventory/log/export?" + exp.Encode()
	exp.Set("format", "csv")
	v.ExportCSV = "/inventory/log/export?" + exp.Encode()
	return wb.show(w, r, "inventorylog.html", "Change log", v, ferr)
}

func (wb *Web) exportLog(w http.ResponseWriter, r *http.Request) error {
	a, err := actor.Require(r.Context(), actor.ViewInventory)
	if err != nil {
		return err
	}
	f, err := inventory.LogFilterFromQuery(r.URL.Query(), wb.zone(r, a))
	if err != nil {
		return err
	}
	format, err := inventory.ParseExportFormat(r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	f.Before, f.Limit = 0, 0
	file := download.File{Name: download.Stamped("inventory-log", string(format), time.Now()), ContentType: format.ContentType()}
	return download.Stream(w, r, wb.cfg.Logger, file, func(out io.Writer) error {
		_, err := inventory.ExportLog(r.Context(), wb.cfg.DB, f, format, out)
		return err
	})
}

type asOfView struct {
	catalogue
	At, Compare, Mode string
	LocationID        int64
	SKU               string
	Levels            []inventory.Level
	Diffs             []inventory.Difference
	// Compared says the two moments were compared; AtText and CompareText
	// name them as the comparison's column headers.
	Compared            bool
	AtText, CompareText string
}

func (wb *Web) asOfPage(w http.ResponseWriter, r *http.Request) error {
	a, err := actor.Require(r.Context(), actor.ViewInventory)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v := asOfView{At: q.Get("at"), Compare: q.Get("compare"), Mode: q.Get("mode"), SKU: strings.TrimSpace(q.Get("sku"))}
	if v.catalogue, err = wb.catalogue(r, a); err != nil {
		return err
	}
	if v.LocationID, err = queryInt(r, "location_id"); err != nil {
		return wb.show(w, r, "asof.html", "Stock as of", v, err)
	}
	zone := wb.zone(r, a)
	var pageErr error
	f := inventory.StockFilter{LocationID: v.LocationID}
	if v.SKU != "" {
		it, err := inventory.ItemBySKU(r.Context(), wb.cfg.DB, v.SKU)
		if err != nil {
			return wb.show(w, r, "asof.html", "Stock as of", v, err)
		}
		f.ItemID = it.ID
	}
	at, err := inventory.ParseAsOf("at", v.At, zone)
	if err != nil {
		return wb.show(w, r, "asof.html", "Stock as of", v, err)
	}
	compare, err := inventory.ParseAsOf("compare", v.Compare, zone)
	if err != nil {
		return wb.show(w, r, "asof.html", "Stock as of", v, err)
	}
	switch {
	case at.IsZero():
	case !compare.IsZero():
		v.Diffs, pageErr = inventory.StockDiff(r.Context(), wb.cfg.DB, at, compare, f)
		if e, ok := fault.As(pageErr); ok && e.Fields["to"] != "" {
			// The area names the API's from and to; this form's fields
			// are At and Compare with.
			pageErr = fault.Field("compare", "must be later than At")
		}
		v.Compared = pageErr == nil
		v.AtText, v.CompareText = at.In(zone).Format("2006-01-02 15:04"), compare.In(zone).Format("2006-01-02 15:04")
	case v.Mode == "shown":
		v.Levels, pageErr = inventory.StockAsShown(r.Context(), wb.cfg.DB, at, f)
	default:
		v.Levels, pageErr = inventory.StockAsOf(r.Context(), wb.cfg.DB, at, f)
	}
	if pageErr != nil && fault.KindOf(pageErr) == fault.Internal {
		return pageErr
	}
	return wb.show(w, r, "asof.html", "Stock as of", v, pageErr)
}

type importView struct {
	Rows []inventory.RowProblem
}

func (wb *Web) importPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.MoveStock); err != nil {
		return err
	}
	return wb.show(w, r, "import.html", "Bulk update", importView{}, nil)
}

func (wb *Web) postImport(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.MoveStock); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	fail := func(err error) error {
		if fault.KindOf(err) == fault.Internal {
			return err
		}
		return wb.show(w, r, "import.html", "Bulk update", importView{Rows: inventory.RowProblems(err)}, err)
	}
	file, header, err := r.FormFile("file")
	if err != nil {
		return fail(fault.Field("file", "choose a CSV or XLSX file"))
	}
	defer file.Close()
	rows, err := inventory.ParseBulkFile(file)
	if err != nil {
		return fail(err)
	}
	res, err := inventory.BulkUpdate(r.Context(), wb.cfg.DB, rows, inventory.Options{Reason: r.PostFormValue("reason"),
		Reference: "import " + truncateName(header.Filename, 150)})
	if err != nil {
		return fail(err)
	}
	return redirect(w, r, "/inventory/log", fmt.Sprintf("Bulk update applied: %s, %s", count(len(rows), "row", "rows"), count(len(res.Entries), "log entry", "log entries")))
}

func truncateName(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (wb *Web) deleteRecord(w http.ResponseWriter, r *http.Request) error {
	_, err := actor.Require(r.Context(), actor.MoveStock)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	rec, err := inventory.GetRecord(r.Context(), wb.cfg.DB, id)
	if err != nil {
		return err
	}
	if _, err := inventory.DeleteRecord(r.Context(), wb.cfg.DB, id, inventory.Options{Reason: r.PostFormValue("reason")}); err != nil {
		if fault.KindOf(err) == fault.Internal {
			return err
		}
		r.PostForm.Set("record_id", itoa64(id))
		return wb.showItemAction(w, r, rec.ItemID, itemActionBySlug["delete"], err)
	}
	return redirect(w, r, fmt.Sprintf("/inventory/items/%d", rec.ItemID), "Record deleted: "+recordName(rec))
}

func (wb *Web) changeLot(w http.ResponseWriter, r *http.Request) error {
	_, err := actor.Require(r.Context(), actor.MoveStock)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	rec, err := inventory.GetRecord(r.Context(), wb.cfg.DB, id)
	if err != nil {
		return err
	}
	if _, err := inventory.UpdateRecord(r.Context(), wb.cfg.DB, id, inventory.RecordChange{Lot: r.PostFormValue("lot"),
		Options: inventory.Options{Reason: r.PostFormValue("reason")}}); err != nil {
		if fault.KindOf(err) == fault.Internal {
			return err
		}
		r.PostForm.Set("record_id", itoa64(id))
		return wb.showItemAction(w, r, rec.ItemID, itemActionBySlug["lot"], err)
	}
	return redirect(w, r, fmt.Sprintf("/inventory/items/%d", rec.ItemID), "Lot changed: "+recordName(rec)+" is now lot "+strings.TrimSpace(r.PostFormValue("lot")))
}
