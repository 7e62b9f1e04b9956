package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

// The item page: the item's stock (its records, with who holds what) and
// its recent changes, and one action bar. Each action is a link to its own
// small page with one focused form (/inventory/items/{id}/receive, …), so
// everything works without JavaScript; with it, item.js opens the same form
// in a native <dialog> on the item page instead. A form that does not
// validate comes back where it was sent from: the dialog opens again with
// its error summary, or its page is shown again.

// itemAction is one action of the item page's action bar.
type itemAction struct {
	Slug   string // its page: /inventory/items/{id}/{Slug}
	Label  string // in the action bar
	Title  string // the dialog's or page's heading
	Submit string // the submit button
	// Kind is the movement the action records (empty for the lot change
	// and deletion, which are record edits).
	Kind string
	// OnRecord says the action works on one of the item's records, so it
	// is offered once the item has one, and from each record's row.
	OnRecord bool
	Danger   bool
	// More says the action folds under "More actions" on a phone.
	More bool
	// Fields are the form's fields in order, for the error summary.
	Fields []string
}

var itemActions = []itemAction{
	{Slug: "receive", Label: "Receive", Title: "Receive stock", Submit: "Receive", Kind: "receipt",
		Fields: []string{"location", "lot", "quantity", "effective_at", "reference"}},
	{Slug: "issue", Label: "Issue", Title: "Issue stock", Submit: "Issue", Kind: "issue", OnRecord: true,
		Fields: []string{"record_id", "quantity", "reference", "reason"}},
	{Slug: "move", Label: "Move", Title: "Move stock to another location", Submit: "Move", Kind: "move", OnRecord: true,
		Fields: []string{"record_id", "to_location", "quantity", "reason"}},
	{Slug: "split", More: true, Label: "Split", Title: "Split part into a new lot", Submit: "Split", Kind: "split", OnRecord: true,
		Fields: []string{"record_id", "new_lot", "quantity", "reason"}},
	{Slug: "correct", More: true, Label: "Correct", Title: "Correct the quantity", Submit: "Correct", Kind: "correction", OnRecord: true,
		Fields: []string{"record_id", "change", "reason"}},
	{Slug: "count", Label: "Count", Title: "Count (reconcile to what is there)", Submit: "Record the count", Kind: "reconciliation", OnRecord: true,
		Fields: []string{"record_id", "counted", "reason"}},
	{Slug: "merge", More: true, Label: "Merge", Title: "Merge records at one location", Submit: "Merge", Kind: "merge", OnRecord: true,
		Fields: []string{"into_record_id", "record_ids", "reason"}},
	{Slug: "lot", More: true, Label: "Change lot", Title: "Change a record's lot", Submit: "Change lot", OnRecord: true,
		Fields: []string{"record_id", "lot", "reason"}},
	{Slug: "new-record", More: true, Label: "New record", Title: "New record", Submit: "Create record", Kind: "create",
		Fields: []string{"location", "lot", "quantity"}},
	{Slug: "delete", More: true, Label: "Delete record", Title: "Delete a record", Submit: "Delete record", OnRecord: true, Danger: true,
		Fields: []string{"record_id", "reason"}},
}

var itemActionBySlug = func() map[string]itemAction {
	m := map[string]itemAction{}
	for _, a := range itemActions {
		m[a.Slug] = a
	}
	return m
}()

// itemActionOfKind is the item page's action that records a movement kind.
func itemActionOfKind(kind string) (itemAction, bool) {
	for _, a := range itemActions {
		if a.Kind != "" && a.Kind == kind {
			return a, true
		}
	}
	return itemAction{}, false
}

// fieldLabels name the forms' fields as their labels do, for the summary.
var fieldLabels = map[string]string{
	"location": "Location", "lot": "Lot", "quantity": "Quantity", "effective_at": "Effective at", "reference": "Reference",
	"record_id": "Record", "to_location": "Move to", "new_lot": "New lot", "change": "Change", "counted": "Counted quantity",
	"reason": "Reason", "record_ids": "Records to merge", "into_record_id": "Merge into", "sku": "SKU",
}

// actionProblem is one line of an error summary: its text and the field (or
// form) it links to.
type actionProblem struct{ Href, Text string }

// problemText is a summary line: the message alone when it names its field
// ("There is no item with SKU NOPE-1"), else the field's label before it
// ("Quantity: must be greater than zero").
func problemText(label, msg string) string {
	if strings.Contains(strings.ToLower(msg), strings.ToLower(label)) {
		return sentence(msg)
	}
	return label + ": " + msg
}

// actionForm is one action's form as a dialog or a page shows it.
type actionForm struct {
	itemAction
	Item      inventory.Item
	Records   []inventory.Record
	Locations []inventory.Location
	CSRF      string
	// InDialog says the form is in the item page's dialog (its Cancel
	// closes the dialog) rather than on its own page.
	InDialog bool
	// Open says the dialog opens when the page loads: its form came back
	// with errors.
	Open bool
	// Record is the record preselected (?record=), 0 for none.
	Record int64
	Values url.Values
	Errs   map[string]string
	Errors []actionProblem
}

// ID is a field's element id, unique on the item page.
func (f actionForm) ID(field string) string { return f.Slug + "-" + field }

// Value is what the field held when the form came back.
func (f actionForm) Value(field string) string { return f.Values.Get(field) }

// Err is the message next to a field.
func (f actionForm) Err(field string) string { return f.Errs[field] }

// Picked says a record is the one selected in the form's record list.
func (f actionForm) Picked(field string, id int64) bool {
	if v := f.Values.Get(field); v != "" {
		return v == strconv.FormatInt(id, 10)
	}
	return f.Record == id
}

// Ticked says a record's box is ticked in the merge form.
func (f actionForm) Ticked(id int64) bool {
	for _, v := range f.Values["record_ids"] {
		if v == strconv.FormatInt(id, 10) {
			return true
		}
	}
	return false
}

// PickedLocation says a location is the one selected in a location list.
func (f actionForm) PickedLocation(field, path string) bool { return f.Values.Get(field) == path }

// Href is the action's own page, with the record preselected.
func (f actionForm) Href(recordID int64) string {
	h := fmt.Sprintf("/inventory/items/%d/%s", f.Item.ID, f.Slug)
	if recordID != 0 {
		h += "?record=" + strconv.FormatInt(recordID, 10)
	}
	return h
}

// withError fills the form's error summary and field messages from err.
func (f *actionForm) withError(err error, values url.Values) {
	f.Values, f.Errs = values, map[string]string{}
	e, ok := fault.As(err)
	if !ok {
		return
	}
	inForm := map[string]bool{}
	for _, field := range f.Fields {
		inForm[field] = true
	}
	for field, msg := range e.Fields {
		if inForm[field] {
			f.Errs[field] = sentence(msg)
		}
	}
	for _, p := range errorSummary(e.Fields, f.Fields, fieldLabels) {
		label := p.Label
		if label == "" {
			label = sentence(strings.ReplaceAll(p.Field, "_", " "))
		}
		href := "#" + f.ID(p.Field)
		if !inForm[p.Field] {
			href = "#" + f.ID("form")
		}
		f.Errors = append(f.Errors, actionProblem{Href: href, Text: problemText(label, p.Message)})
	}
	if len(f.Errors) == 0 {
		f.Errors = []actionProblem{{Href: "#" + f.ID("form"), Text: sentence(e.Message)}}
	}
}

type itemView struct {
	Item    inventory.Item
	Records []inventory.Record
	// Holders are who holds each record's allocated units, by record id.
	Holders map[int64][]inventory.Holding
	// Actions are the action bar's forms (dialogs), in the bar's order.
	Actions []actionForm
	// RowActions are the actions offered from a record's row.
	RowActions []actionForm
	Entries    []logRow
	Next       string
	History    []activity.Readable
	// LogQuery filters the change log to the item; typed as a URL so the
	// template keeps its "=" (escaped, it filtered nothing).
	LogQuery template.URL
	// Form is the one action shown on its own page (no JavaScript), or nil.
	Form *actionForm
	// Levels is the picture of the item's level over time (chart.go).
	Levels levelChartView
}

func (wb *Web) itemPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return wb.showItem(w, r, id, "", nil)
}

// itemBasics reads what both the item page and an action's page show.
func (wb *Web) itemBasics(r *http.Request, id int64) (itemView, []inventory.Location, error) {
	ctx := r.Context()
	var v itemView
	var err error
	if v.Item, err = inventory.GetItem(ctx, wb.cfg.DB, id); err != nil {
		return v, nil, err
	}
	if v.Records, err = inventory.ListRecords(ctx, wb.cfg.DB, inventory.RecordFilter{ItemID: id}); err != nil {
		return v, nil, err
	}
	locs, err := inventory.ListLocations(ctx, wb.cfg.DB, false)
	return v, locs, err
}

func (wb *Web) actionForm(r *http.Request, v itemView, locs []inventory.Location, act itemAction) actionForm {
	return actionForm{itemAction: act, Item: v.Item, Records: v.Records, Locations: locs, CSRF: csrfToken(r.Context()), Values: url.Values{}}
}

// showItem renders the item page; failed names the action whose dialog
// comes back open with err.
func (wb *Web) showItem(w http.ResponseWriter, r *http.Request, id int64, failed string, formErr error) error {
	a, err := actor.Require(r.Context(), actor.ViewInventory)
	if err != nil {
		return err
	}
	v, locs, err := wb.itemBasics(r, id)
	if err != nil {
		return err
	}
	v.Holders = map[int64][]inventory.Holding{}
	for _, rec := range v.Records {
		if rec.Allocated == 0 {
			continue
		}
		if v.Holders[rec.ID], err = inventory.Allocations(r.Context(), wb.cfg.DB, rec.ID); err != nil {
			return err
		}
	}
	if a.Can(actor.MoveStock) {
		for _, act := range itemActions {
			if !offered(act, v.Records) {
				continue
			}
			f := wb.actionForm(r, v, locs, act)
			f.InDialog = true
			if act.Slug == failed {
				f.Open = true
				f.withError(formErr, r.PostForm)
			}
			v.Actions = append(v.Actions, f)
			if act.OnRecord && act.Slug != "merge" {
				v.RowActions = append(v.RowActions, f)
			}
		}
	}
	before, _ := inventory.ParseCursor(r.URL.Query().Get("cursor"))
	page, err := inventory.ItemHistory(r.Context(), wb.cfg.DB, id, before, 20)
	if err != nil {
		return err
	}
	if v.Entries, err = wb.logRows(r, page.Entries); err != nil {
		return err
	}
	v.Next = page.NextCursor
	v.LogQuery = template.URL("sku=" + url.QueryEscape(v.Item.SKU))
	series, complete, err := inventory.LevelHistory(r.Context(), wb.cfg.DB, id, levelChartEntries)
	if err != nil {
		return err
	}
	v.Levels = levelChart(v.Item, series, complete, time.Now(), wb.zone(r, a))
	if a.Can(actor.ViewActivity) {
		if v.History, err = activity.History(r.Context(), wb.cfg.DB, "items", itoa64(id), 20); err != nil {
			return err
		}
	}
	status := http.StatusOK
	if formErr != nil {
		status = fault.HTTPStatus(fault.KindOf(formErr))
	}
	wb.render(w, r, status, "item.html", v.Item.SKU+" · "+v.Item.Name, v, nil)
	return nil
}

// offered says whether the action bar offers act for an item with recs:
// record actions once there is a record, merging once there are two.
func offered(act itemAction, recs []inventory.Record) bool {
	switch {
	case act.Slug == "merge":
		return len(recs) > 1
	case act.OnRecord:
		return len(recs) > 0
	}
	return true
}

// itemActionPage is one action's own page: the form the dialog holds, for
// a browser without JavaScript (or a link opened in a new tab).
func (wb *Web) itemActionPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	act, ok := itemActionBySlug[r.PathValue("action")]
	if !ok {
		return fault.New(fault.NotFound, "there is no page at %s", r.URL.Path)
	}
	return wb.showItemAction(w, r, id, act, nil)
}

// showItemAction renders an action's page, with formErr's messages when
// the form came back.
func (wb *Web) showItemAction(w http.ResponseWriter, r *http.Request, id int64, act itemAction, formErr error) error {
	if _, err := actor.Require(r.Context(), actor.MoveStock); err != nil {
		return err
	}
	v, locs, err := wb.itemBasics(r, id)
	if err != nil {
		return err
	}
	f := wb.actionForm(r, v, locs, act)
	if rec, err := strconv.ParseInt(r.URL.Query().Get("record"), 10, 64); err == nil {
		f.Record = rec
	}
	status := http.StatusOK
	if formErr != nil {
		f.withError(formErr, r.PostForm)
		status = fault.HTTPStatus(fault.KindOf(formErr))
	}
	v.Form = &f
	wb.render(w, r, status, "item.html", act.Title+" · "+v.Item.SKU, v, nil)
	return nil
}

// postItemAction runs an action of the item page and goes back to the
// item; a refusal shows the form again where it was sent from.
func (wb *Web) postItemAction(w http.ResponseWriter, r *http.Request) error {
	a, err := actor.Require(r.Context(), actor.MoveStock)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	act, ok := itemActionBySlug[r.PathValue("action")]
	if !ok {
		return fault.New(fault.NotFound, "there is no page at %s", r.URL.Path)
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	it, err := inventory.GetItem(r.Context(), wb.cfg.DB, id)
	if err != nil {
		return err
	}
	msg, err := wb.runItemAction(r, a, it, act)
	if err != nil {
		if fault.KindOf(err) == fault.Internal || fault.KindOf(err) == fault.Forbidden {
			return err
		}
		if r.PostFormValue("via") == "dialog" {
			return wb.showItem(w, r, id, act.Slug, err)
		}
		return wb.showItemAction(w, r, id, act, err)
	}
	return redirect(w, r, fmt.Sprintf("/inventory/items/%d", id), msg)
}

// runItemAction records the action the form describes and says what it did.
func (wb *Web) runItemAction(r *http.Request, a actor.Actor, it inventory.Item, act itemAction) (string, error) {
	ctx := r.Context()
	recordID, err := formInt(r, "record_id")
	if err != nil {
		return "", err
	}
	switch act.Slug {
	case "lot", "delete":
		if recordID == 0 {
			return "", fault.Field("record_id", "pick a record")
		}
		rec, err := inventory.GetRecord(ctx, wb.cfg.DB, recordID)
		if err != nil {
			if fault.KindOf(err) == fault.NotFound {
				return "", fault.Field("record_id", "pick a record from the list")
			}
			return "", err
		}
		o := inventory.Options{Reason: r.PostFormValue("reason")}
		if act.Slug == "delete" {
			if _, err := inventory.DeleteRecord(ctx, wb.cfg.DB, recordID, o); err != nil {
				return "", err
			}
			return "Record deleted: " + recordName(rec), nil
		}
		lot := strings.TrimSpace(r.PostFormValue("lot"))
		if _, err := inventory.UpdateRecord(ctx, wb.cfg.DB, recordID, inventory.RecordChange{Lot: lot, Options: o}); err != nil {
			return "", err
		}
		if lot == "" {
			return "Lot changed: " + recordName(rec) + " now has no lot", nil
		}
		return "Lot changed: " + recordName(rec) + " is now lot " + lot, nil
	}
	// Receipts and new records are of this item, whatever the form says.
	r.PostForm.Set("sku", it.SKU)
	if act.OnRecord && act.Slug != "merge" && recordID == 0 {
		return "", fault.Field("record_id", "pick a record")
	}
	m, err := movementFromForm(r, act.Kind, wb.zone(r, a))
	if err != nil {
		return "", err
	}
	res, err := inventory.Apply(ctx, wb.cfg.DB, m)
	if err != nil {
		return "", err
	}
	return movementRecorded(m.Kind(), res), nil
}

// movementRecorded is the confirmation of a movement: what it was, and
// where the stock now stands when it touched one record.
func movementRecorded(kind string, res inventory.Result) string {
	if kind == "create" && len(res.Records) == 1 {
		rec := res.Records[0]
		return fmt.Sprintf("Record created: %s with %s %s", recordName(rec), rec.QuantityText(), rec.Unit)
	}
	msg := inventory.MovementName(kind) + " recorded"
	if len(res.Records) == 1 {
		rec := res.Records[0]
		msg += fmt.Sprintf(": %s now holds %s %s", recordName(rec), rec.QuantityText(), rec.Unit)
	}
	return msg
}

// recordName names a record as people do: where it is, and its lot.
func recordName(rec inventory.Record) string {
	if rec.Lot == "" {
		return rec.LocationPath
	}
	return rec.LocationPath + " lot " + rec.Lot
}

// formField is one field of an action's form, for the field templates.
type formField struct {
	F                 actionForm
	Name, Label, Hint string
}

// Field describes one of the form's fields to a field template.
func (f actionForm) Field(name, label, hint string) formField {
	return formField{F: f, Name: name, Label: label, Hint: hint}
}
