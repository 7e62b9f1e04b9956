package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
)

// The order pages: the list, a new order, and one order with its lines,
// allocations, the actions its status allows and its history. Every action
// is a plain form; Ship and Cancel pass through a check-your-answers page.
func (wb *Web) registerOrders(mux *http.ServeMux) {
	mux.HandleFunc("GET /orders", wb.page(wb.orderList))
	mux.HandleFunc("GET /orders/new", wb.page(wb.newOrder))
	mux.HandleFunc("POST /orders", wb.page(wb.createOrder))
	mux.HandleFunc("GET /orders/{id}", wb.page(wb.orderPage))
	// One pattern for the order's pages below it: Go's mux refuses
	// GET /orders/{id}/history beside GET /orders/by-number/{number}, as
	// both would match /orders/by-number/history.
	mux.HandleFunc("GET /orders/{id}/{view}", wb.page(wb.orderSubpage))
	mux.HandleFunc("GET /orders/by-number/{number}", wb.page(wb.orderByNumber))
	mux.HandleFunc("POST /orders/{id}", wb.page(wb.updateOrder))
	mux.HandleFunc("POST /orders/{id}/lines", wb.page(wb.addOrderLine))
	mux.HandleFunc("POST /orders/{id}/lines/{line}", wb.page(wb.updateOrderLine))
	mux.HandleFunc("POST /orders/{id}/lines/{line}/remove", wb.page(wb.removeOrderLine))
	for _, action := range []string{"confirm", "allocate", "release", "pick", "ship", "receive", "close", "cancel"} {
		mux.HandleFunc("POST /orders/{id}/"+action, wb.page(wb.orderAction(action)))
	}
}

// kindTitle is what people call an order of kind k.
func kindTitle(k orders.Kind) string {
	if k == orders.Inbound {
		return "Purchase order"
	}
	return "Sales order"
}

// orderRow is an order as the list shows it.
type orderRow struct {
	orders.Order
	KindTitle, Created string
	Items              string
}

type orderListView struct {
	Rows        []orderRow
	Query       url.Values
	Kinds       []orders.Kind
	Statuses    []orders.Status
	SKUs        []inventory.Item
	Filtered    bool
	Older       string
	TimeZone    string
	Errors      []fieldProblem
	ErrorFields map[string]string
	FilterCount int
}

var orderFilterFields = []string{"q", "kind", "status", "party", "sku", "from", "to"}

var orderFilterLabels = map[string]string{"q": "Search", "kind": "Kind", "status": "Status", "party": "Customer or supplier",
	"sku": "Item", "from": "Created from", "to": "Created before"}

func (wb *Web) orderList(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ViewOrders); err != nil {
		return err
	}
	loc, err := wb.workspaceLocation(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v := orderListView{Query: q, Kinds: orders.Kinds(), Statuses: orders.Statuses(orders.Kind(q.Get("kind"))), TimeZone: loc.String()}
	for _, k := range orderFilterFields {
		if k != "q" && strings.TrimSpace(q.Get(k)) != "" {
			v.FilterCount++
		}
	}
	v.Filtered = v.FilterCount > 0 || strings.TrimSpace(q.Get("q")) != ""
	if a, _ := actor.From(r.Context()); a.Can(actor.ViewInventory) {
		if v.SKUs, err = inventory.ListItems(r.Context(), wb.cfg.DB, "", 1000); err != nil {
			return err
		}
	}
	f := orders.Filter{Kind: orders.Kind(q.Get("kind")), Status: orders.Status(q.Get("status")), Search: q.Get("q"), Party: q.Get("party")}
	bad := fault.Fields{}
	if sku := strings.TrimSpace(q.Get("sku")); sku != "" {
		it, err := inventory.ItemBySKU(r.Context(), wb.cfg.DB, sku)
		switch {
		case fault.Is(err, fault.NotFound):
			bad.Add("sku", fmt.Sprintf("No item has the SKU %q", sku))
		case err != nil && fault.KindOf(err) != fault.Forbidden:
			return err
		}
		f.ItemID = it.ID
	}
	if f.From, err = inventory.ParseMoment("from", q.Get("from"), loc, false); err != nil {
		bad.Add("from", fieldMessage(err, "from"))
	}
	if f.To, err = inventory.ParseMoment("to", q.Get("to"), loc, true); err != nil {
		bad.Add("to", fieldMessage(err, "to"))
	}
	if f.Before, err = queryInt(r, "before"); err != nil {
		return err
	}
	var listErr error = bad.Err()
	if listErr == nil {
		page, err := orders.List(r.Context(), wb.cfg.DB, f)
		if err != nil && fault.KindOf(err) == fault.Internal {
			return err
		}
		listErr = err
		for _, o := range page.Orders {
			v.Rows = append(v.Rows, orderRow{Order: o, KindTitle: kindTitle(o.Kind), Created: localTime(o.CreatedAt, loc), Items: lineSummary(o.Lines)})
		}
		if page.Next != 0 {
			older := url.Values{}
			for k, vals := range q {
				if k != "before" && len(vals) > 0 && vals[0] != "" {
					older.Set(k, vals[0])
				}
			}
			older.Set("before", strconv.FormatInt(page.Next, 10))
			v.Older = "/orders?" + older.Encode()
		}
	}
	if e, ok := fault.As(listErr); ok {
		fields := e.Fields
		if len(fields) == 0 {
			fields = map[string]string{"q": e.Message}
		}
		v.Errors, v.ErrorFields = errorSummary(fields, orderFilterFields, orderFilterLabels), fields
		return wb.renderForm(w, r, fault.HTTPStatus(e.Kind), "orders.html", "Orders", v)
	}
	return wb.show(w, r, "orders.html", "Orders", v, nil)
}

// lineSummary names an order's items for the list ("2 × BOLT-M8, OIL-5").
func lineSummary(lines []orders.Line) string {
	var skus []string
	for i, l := range lines {
		if i == 3 {
			skus = append(skus, fmt.Sprintf("+%d more", len(lines)-3))
			break
		}
		skus = append(skus, l.SKU)
	}
	return strings.Join(skus, ", ")
}

// fieldMessage is err's message for field, or its whole message.
func fieldMessage(err error, field string) string {
	if e, ok := fault.As(err); ok {
		if m := e.Fields[field]; m != "" {
			return m
		}
		return e.Message
	}
	return err.Error()
}

// renderForm shows a page whose data carries its own error summary and
// field messages (so the layout's one-line alert is not shown twice).
func (wb *Web) renderForm(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) error {
	wb.render(w, r, status, page, title, data, nil)
	return nil
}

// orderFormView is the new-order page.
type orderFormView struct {
	Kind      orders.Kind
	KindTitle string
	PartyName string
	Values    url.Values
	Fields    map[string]string
	Errors    []fieldProblem
}

var orderHeaderFields = []string{"party", "party_reference", "note"}

func (wb *Web) newOrder(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageOrders); err != nil {
		return err
	}
	k := orders.Kind(r.URL.Query().Get("kind"))
	if k == "" {
		k = orders.Outbound
	}
	if !k.Valid() {
		return fault.New(fault.NotFound, "there are outbound and inbound orders; no %q ones", string(k))
	}
	return wb.show(w, r, "ordernew.html", "New "+strings.ToLower(kindTitle(k)), orderFormView{Kind: k, KindTitle: kindTitle(k), PartyName: k.PartyName(),
		Values: url.Values{}}, nil)
}

func (wb *Web) createOrder(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageOrders); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	k := orders.Kind(r.PostFormValue("kind"))
	o, err := orders.Create(r.Context(), wb.cfg.DB, orders.OrderInput{Kind: k, Party: r.PostFormValue("party"),
		PartyReference: r.PostFormValue("party_reference"), Note: r.PostFormValue("note")})
	if err != nil {
		e, ok := fault.As(err)
		if !ok || e.Kind == fault.Internal || e.Kind == fault.Forbidden {
			return err
		}
		if !k.Valid() {
			k = orders.Outbound
		}
		fields := map[string]string{}
		for f, msg := range e.Fields {
			fields[f] = sentence(msg)
		}
		v := orderFormView{Kind: k, KindTitle: kindTitle(k), PartyName: k.PartyName(), Values: r.PostForm, Fields: fields,
			Errors: errorSummary(fields, orderHeaderFields, nil)}
		return wb.renderForm(w, r, fault.HTTPStatus(e.Kind), "ordernew.html", "New "+strings.ToLower(kindTitle(k)), v)
	}
	return redirect(w, r, fmt.Sprintf("/orders/%d", o.ID), o.Number+" created: add its lines")
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// step is one stage of an order's workflow on the step indicator.
type step struct {
	Name          string
	Done, Current bool
}

// steps is the workflow of o's kind with where o stands: a partial status
// is the current step of its full one ("Allocated (partly)").
func steps(o orders.Order) []step {
	type stage struct {
		name     string
		statuses []orders.Status
	}
	stages := []stage{{"Draft", []orders.Status{orders.Draft}}, {"Confirmed", []orders.Status{orders.Confirmed}}}
	if o.Kind == orders.Inbound {
		stages = append(stages, stage{"Received", []orders.Status{orders.PartiallyReceived, orders.Received}})
	} else {
		stages = append(stages, stage{"Allocated", []orders.Status{orders.PartiallyAllocated, orders.Allocated}},
			stage{"Picked", []orders.Status{orders.Picked}}, stage{"Shipped", []orders.Status{orders.Shipped}})
	}
	stages = append(stages, stage{"Closed", []orders.Status{orders.Closed}})
	current := -1
	for i, s := range stages {
		for _, st := range s.statuses {
			if st == o.Status {
				current = i
			}
		}
	}
	out := make([]step, len(stages))
	for i, s := range stages {
		out[i] = step{Name: s.name, Done: i < current || (i == current && o.Status == orders.Closed), Current: i == current}
		if i == current && (o.Status == orders.PartiallyAllocated || o.Status == orders.PartiallyReceived) {
			out[i].Name += " (partly)"
		}
	}
	return out
}

// orderActions says which actions o's status allows to the actor, as the
// orders package's workflow checks them (internal/orders edit.go and
// fulfil.go); a button the workflow would refuse is not offered.
type orderActions struct {
	Confirm, Allocate, Release, Pick, Ship, Receive, Close, Cancel bool
	EditHeader, EditLines                                          bool
}

func (x orderActions) Any() bool {
	return x.Confirm || x.Allocate || x.Release || x.Pick || x.Ship || x.Receive || x.Close || x.Cancel
}

func actionsFor(o orders.Order, a actor.Actor) orderActions {
	manage, fulfil := a.Can(actor.ManageOrders), a.Can(actor.FulfilOrders)
	is := func(list ...orders.Status) bool {
		for _, s := range list {
			if o.Status == s {
				return true
			}
		}
		return false
	}
	var x orderActions
	x.Confirm = manage && is(orders.Draft)
	x.EditHeader = manage && is(orders.Draft, orders.Confirmed, orders.PartiallyAllocated, orders.Allocated, orders.Picked, orders.PartiallyReceived)
	if o.Kind == orders.Outbound {
		allocated, unpicked := false, false
		for _, l := range o.Lines {
			if l.Allocated > 0 {
				allocated = true
				if !l.Picked {
					unpicked = true
				}
			}
		}
		x.Allocate = fulfil && is(orders.Confirmed, orders.PartiallyAllocated)
		x.Release = fulfil && allocated && is(orders.PartiallyAllocated, orders.Allocated, orders.Picked)
		x.Pick = fulfil && unpicked && is(orders.PartiallyAllocated, orders.Allocated)
		x.Ship = fulfil && is(orders.Picked)
		x.Close = manage && is(orders.Shipped)
		x.Cancel = manage && is(orders.Draft, orders.Confirmed, orders.PartiallyAllocated, orders.Allocated, orders.Picked)
		x.EditLines = manage && is(orders.Draft, orders.Confirmed, orders.PartiallyAllocated, orders.Allocated)
	} else {
		x.Receive = fulfil && is(orders.Confirmed, orders.PartiallyReceived)
		x.Close = manage && is(orders.Received)
		x.Cancel = manage && is(orders.Draft, orders.Confirmed, orders.PartiallyReceived)
		x.EditLines = manage && is(orders.Draft, orders.Confirmed)
	}
	return x
}

// lineView is a line with what the page shows beside it.
type lineView struct {
	orders.Line
	// Outstanding is what an inbound line still waits for.
	Outstanding string
	// Key prefixes the ids of the line's fields ("line-12-").
	Key string
	// Available are the records a person may choose to allocate from
	// (the line's location subtree and lot), oldest first.
	Available []inventory.Record
}

func (l lineView) AllocationText(a orders.Allocation) string { return a.Quantity.Format(l.Scale) }

type orderView struct {
	Order     orders.Order
	KindTitle string
	PartyName string
	Steps     []step
	Lines     []lineView
	Can       orderActions
	Created   string
	Updated   string
	Tab       string
	History   []activity.Readable
	Items     []inventory.Item
	Locations []inventory.Location
	// LogLink opens the change log at the order's entries: they carry
	// its number as their reference.
	LogLink     string
	Fields      map[string]string
	Errors      []fieldProblem
	Values      url.Values
	OpenLine    int64
	OpenChoose  int64
	TimeZone    string
	ShowReceive bool
}

// orderSubpage answers the pages below an order: its History tab and the
// check pages of Ship and Cancel.
func (wb *Web) orderSubpage(w http.ResponseWriter, r *http.Request) error {
	switch r.PathValue("view") {
	case "history":
		return wb.orderPage(w, r)
	case "ship", "cancel":
		return wb.checkOrderAction(r.PathValue("view"))(w, r)
	}
	return fault.New(fault.NotFound, "no such page")
}

// orderByNumber sends a link by order number (a change-log reference, a
// holder of allocated stock) to the order's page.
func (wb *Web) orderByNumber(w http.ResponseWriter, r *http.Request) error {
	o, err := orders.ByNumber(r.Context(), wb.cfg.DB, r.PathValue("number"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/orders/%d", o.ID), http.StatusSeeOther)
	return nil
}

// orderHref is the link of a change-log reference or an allocation's holder
// that is an order number ("" for any other text).
func orderHref(s string) string {
	if !orders.IsNumber(s) {
		return ""
	}
	return "/orders/by-number/" + url.PathEscape(s)
}

func (wb *Web) orderPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return wb.showOrder(w, r, id, nil, nil)
}

// showOrder renders the order page; formErr, when set, is the problem of
// the form just sent, shown in the summary and next to its fields, renamed
// by rename (a form's field names differ from the call's).
func (wb *Web) showOrder(w http.ResponseWriter, r *http.Request, id int64, formErr error, rename func(string) string) error {
	a, err := actor.Require(r.Context(), actor.ViewOrders)
	if err != nil {
		return err
	}
	o, err := orders.Get(r.Context(), wb.cfg.DB, id)
	if err != nil {
		return err
	}
	loc, err := wb.workspaceLocation(r)
	if err != nil {
		return err
	}
	v := orderView{Order: o, KindTitle: kindTitle(o.Kind), PartyName: o.Kind.PartyName(), Steps: steps(o), Can: actionsFor(o, a),
		Created: localTime(o.CreatedAt, loc), Updated: localTime(o.UpdatedAt, loc), Values: url.Values{}, TimeZone: loc.String()}
	if strings.HasSuffix(r.URL.Path, "/history") {
		v.Tab = "history"
	}
	if o.Status != orders.Draft && len(o.Lines) > 0 {
		v.LogLink = "/inventory/log?" + url.Values{"reference": {o.Number}}.Encode()
	}
	for _, l := range o.Lines {
		lv := lineView{Line: l, Key: fmt.Sprintf("line-%d-", l.ID)}
		if o.Kind == orders.Inbound && l.Received < l.Quantity {
			lv.Outstanding = (l.Quantity - l.Received).Format(l.Scale)
		}
		v.Lines = append(v.Lines, lv)
	}
	v.ShowReceive = v.Can.Receive && len(o.Lines) > 0
	if v.Can.Allocate && a.Can(actor.ViewInventory) {
		// One read for every short line, as the allocation plan does.
		var short []int
		var wants []inventory.Wanted
		for i, l := range v.Lines {
			if l.Shortfall != 0 {
				short = append(short, i)
				wants = append(wants, inventory.Wanted{ItemID: l.ItemID, LocationID: l.LocationID, Lot: l.Lot})
			}
		}
		if len(wants) > 0 {
			found, err := inventory.AvailableRecordsOf(r.Context(), wb.cfg.DB, wants)
			if err != nil {
				return err
			}
			for j, i := range short {
				v.Lines[i].Available = found[j]
			}
		}
	}
	if a.Can(actor.ViewInventory) && (v.Can.EditLines || v.Can.Receive) {
		if v.Items, err = inventory.ListItems(r.Context(), wb.cfg.DB, "", 1000); err != nil {
			return err
		}
		if v.Locations, err = inventory.ListLocations(r.Context(), wb.cfg.DB, false); err != nil {
			return err
		}
	}
	if v.Tab == "history" {
		// The order was read above under ViewOrders, which may also read
		// its events: activity's History names them for people.
		if v.History, err = activity.History(r.Context(), wb.cfg.DB, "orders", fmt.Sprint(o.ID), 200); err != nil {
			return err
		}
	}
	title := o.Number
	status := http.StatusOK
	if formErr != nil {
		e, ok := fault.As(formErr)
		if !ok || e.Kind == fault.Internal || e.Kind == fault.Unauthorized {
			return formErr
		}
		status = fault.HTTPStatus(e.Kind)
		v.Values = r.PostForm
		v.Fields = map[string]string{}
		for k, msg := range e.Fields {
			named := ""
			if rename != nil {
				named = rename(k)
			}
			if named == "" {
				named = pageField(k)
			}
			v.Fields[named] = sentence(msg)
		}
		if len(v.Fields) == 0 {
			v.Fields["actions"] = sentence(e.Message)
		}
		v.Errors = errorSummary(v.Fields, append([]string{"actions"}, lineFormFields...), nil)
		if line, _ := strconv.ParseInt(r.PathValue("line"), 10, 64); line > 0 {
			v.OpenLine = line
		}
		if r.PostFormValue("choose") != "" {
			v.OpenChoose, _ = strconv.ParseInt(r.PostFormValue("line_id"), 10, 64)
		}
	}
	wb.render(w, r, status, "order.html", title, v, nil)
	return nil
}

// pageField is where the order page shows a problem of field k of an
// orders call that no form's own renaming claimed: a workflow refusal
// (status, kind, a line named by an action) at the action bar, an item at
// the add-line form's SKU.
func pageField(k string) string {
	switch {
	case k == "status" || k == "kind" || strings.HasPrefix(k, "lines["):
		return "actions"
	case k == "item_id":
		return "sku"
	}
	return k
}

// fieldsOf renames the fields a form posts under other names: with
// prefix p, the fields of the orders call named in names.
func fieldsOf(p string, names ...string) func(string) string {
	return func(k string) string {
		for _, n := range names {
			if k == n {
				return p + k
			}
		}
		return ""
	}
}

var lineFormFields = []string{"sku", "item_id", "quantity", "location_id", "lot", "note"}

// orderAndForm reads the order id and the form of a POST.
func orderAndForm(w http.ResponseWriter, r *http.Request, perm actor.Permission) (int64, error) {
	if _, err := actor.Require(r.Context(), perm); err != nil {
		return 0, err
	}
	id, err := pathID(r)
	if err != nil {
		return 0, err
	}
	return id, parseForm(w, r)
}

// formQuantity is a form's quantity field as the orders package reads it.
func formQuantity(r *http.Request, name string) inventory.DecimalText {
	return inventory.DecimalText(strings.TrimSpace(r.PostFormValue(name)))
}

func (wb *Web) updateOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := orderAndForm(w, r, actor.ManageOrders)
	if err != nil {
		return err
	}
	party, ref, note := r.PostFormValue("party"), r.PostFormValue("party_reference"), r.PostFormValue("note")
	o, err := orders.Update(r.Context(), wb.cfg.DB, id, orders.OrderChange{Party: &party, PartyReference: &ref, Note: &note})
	if err != nil {
		return wb.showOrder(w, r, id, err, fieldsOf("header-", "party", "party_reference", "note"))
	}
	return redirect(w, r, fmt.Sprintf("/orders/%d", id), o.Number+" saved")
}

func (wb *Web) addOrderLine(w http.ResponseWriter, r *http.Request) error {
	id, err := orderAndForm(w, r, actor.ManageOrders)
	if err != nil {
		return err
	}
	in := orders.LineInput{SKU: r.PostFormValue("sku"), Quantity: formQuantity(r, "quantity"), Lot: r.PostFormValue("lot"), Note: r.PostFormValue("note")}
	if in.LocationID, err = formInt(r, "location_id"); err != nil {
		return wb.showOrder(w, r, id, err, nil)
	}
	if strings.TrimSpace(in.SKU) == "" {
		return wb.showOrder(w, r, id, fault.Field("sku", "Enter the SKU of the item"), nil)
	}
	o, err := orders.AddLine(r.Context(), wb.cfg.DB, id, in)
	if err != nil {
		return wb.showOrder(w, r, id, err, nil)
	}
	l := o.Lines[len(o.Lines)-1]
	return redirect(w, r, fmt.Sprintf("/orders/%d", id), fmt.Sprintf("Line %d added: %s %s %s", l.Number, l.QuantityText(), l.Unit, l.SKU))
}

// lineID reads the {line} of the address.
func lineID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("line"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "no such line")
	}
	return id, nil
}

func (wb *Web) updateOrderLine(w http.ResponseWriter, r *http.Request) error {
	id, err := orderAndForm(w, r, actor.ManageOrders)
	if err != nil {
		return err
	}
	line, err := lineID(r)
	if err != nil {
		return err
	}
	rename := fieldsOf(fmt.Sprintf("line-%d-", line), "quantity", "location_id", "lot", "note", "item_id")
	q, lot, note := formQuantity(r, "quantity"), r.PostFormValue("lot"), r.PostFormValue("note")
	loc, err := formInt(r, "location_id")
	if err != nil {
		return wb.showOrder(w, r, id, err, rename)
	}
	o, err := orders.UpdateLine(r.Context(), wb.cfg.DB, id, line, orders.LineChange{Quantity: &q, LocationID: &loc, Lot: &lot, Note: &note})
	if err != nil {
		return wb.showOrder(w, r, id, err, rename)
	}
	l, _ := o.Line(line)
	return redirect(w, r, fmt.Sprintf("/orders/%d", id), fmt.Sprintf("Line %d saved", l.Number))
}

func (wb *Web) removeOrderLine(w http.ResponseWriter, r *http.Request) error {
	id, err := orderAndForm(w, r, actor.ManageOrders)
	if err != nil {
		return err
	}
	line, err := lineID(r)
	if err != nil {
		return err
	}
	before, err := orders.Get(r.Context(), wb.cfg.DB, id)
	if err != nil {
		return err
	}
	l, ok := before.Line(line)
	if !ok {
		return fault.New(fault.NotFound, "%s has no such line", before.Number)
	}
	if _, err := orders.RemoveLine(r.Context(), wb.cfg.DB, id, line); err != nil {
		return wb.showOrder(w, r, id, err, nil)
	}
	return redirect(w, r, fmt.Sprintf("/orders/%d", id), fmt.Sprintf("Line %d removed (%s %s %s)", l.Number, l.QuantityText(), l.Unit, l.SKU))
}

// checkView is a check-your-answers page before an action that cannot be
// undone: shipping (stock leaves) and cancelling.
type checkView struct {
	Order     orders.Order
	KindTitle string
	Action    string
	Lines     []lineView
	Held      int
	Fields    map[string]string
	Errors    []fieldProblem
	Reason    string
}

func (wb *Web) checkOrderAction(action string) handler {
	perm := actor.FulfilOrders
	if action == "cancel" {
		perm = actor.ManageOrders
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := actor.Require(r.Context(), perm)
		if err != nil {
			return err
		}
		id, err := pathID(r)
		if err != nil {
			return err
		}
		o, err := orders.Get(r.Context(), wb.cfg.DB, id)
		if err != nil {
			return err
		}
		can := actionsFor(o, a)
		if (action == "ship" && !can.Ship) || (action == "cancel" && !can.Cancel) {
			return redirect(w, r, fmt.Sprintf("/orders/%d", id), "")
		}
		v := checkView{Order: o, KindTitle: kindTitle(o.Kind), Action: action}
		for _, l := range o.Lines {
			v.Lines = append(v.Lines, lineView{Line: l})
			v.Held += len(l.Allocations)
		}
		return wb.show(w, r, "ordercheck.html", title(action)+" "+o.Number, v, nil)
	}
}

// orderAction runs one workflow action from the order page's action bar.
func (wb *Web) orderAction(action string) handler {
	perm := actor.FulfilOrders
	switch action {
	case "confirm", "close", "cancel":
		perm = actor.ManageOrders
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := orderAndForm(w, r, perm)
		if err != nil {
			return err
		}
		ctx, db := r.Context(), wb.cfg.DB
		var o orders.Order
		var rename func(string) string
		lines, err := formLines(r)
		if err != nil {
			return wb.showOrder(w, r, id, err, nil)
		}
		switch action {
		case "confirm":
			o, err = orders.Confirm(ctx, db, id)
		case "allocate":
			var in orders.AllocateInput
			if r.PostFormValue("choose") != "" {
				in, rename, err = chosenFromForm(r, lines)
			} else {
				for _, l := range lines {
					in.Lines = append(in.Lines, orders.LineAllocation{LineID: l})
				}
			}
			if err == nil {
				o, err = orders.Allocate(ctx, db, id, in)
			}
		case "release":
			o, err = orders.Release(ctx, db, id, orders.LinesInput{Lines: lines})
		case "pick":
			o, err = orders.Pick(ctx, db, id, orders.LinesInput{Lines: lines})
		case "ship":
			o, err = orders.Ship(ctx, db, id, orders.ShipInput{})
		case "close":
			o, err = orders.Close(ctx, db, id)
		case "cancel":
			o, err = orders.Cancel(ctx, db, id, orders.CancelInput{Reason: r.PostFormValue("reason")})
			if err != nil && fault.KindOf(err) == fault.Invalid {
				return wb.showCancelAgain(w, r, id, err)
			}
		case "receive":
			var in orders.ReceiveInput
			in, rename, err = receiveFromForm(r)
			if err == nil {
				o, err = orders.Receive(ctx, db, id, in)
			}
		}
		if err != nil {
			return wb.showOrder(w, r, id, err, rename)
		}
		return redirect(w, r, fmt.Sprintf("/orders/%d", id), actionDone(action, o))
	}
}

// showCancelAgain shows the cancel page again with its reason's problem.
func (wb *Web) showCancelAgain(w http.ResponseWriter, r *http.Request, id int64, err error) error {
	o, gerr := orders.Get(r.Context(), wb.cfg.DB, id)
	if gerr != nil {
		return gerr
	}
	e, _ := fault.As(err)
	v := checkView{Order: o, KindTitle: kindTitle(o.Kind), Action: "cancel", Fields: map[string]string{}, Reason: r.PostFormValue("reason")}
	for k, msg := range e.Fields {
		v.Fields[k] = sentence(msg)
	}
	if len(v.Fields) == 0 {
		v.Fields["reason"] = sentence(e.Message)
	}
	v.Errors = errorSummary(v.Fields, []string{"reason"}, nil)
	for _, l := range o.Lines {
		v.Lines = append(v.Lines, lineView{Line: l})
		v.Held += len(l.Allocations)
	}
	return wb.renderForm(w, r, fault.HTTPStatus(e.Kind), "ordercheck.html", "Cancel "+o.Number, v)
}

// actionDone is the message after an action, in the words of the result.
func actionDone(action string, o orders.Order) string {
	switch action {
	case "confirm":
		return o.Number + " confirmed"
	case "allocate":
		var short []string
		for _, l := range o.Lines {
			if l.Shortfall > 0 {
				short = append(short, fmt.Sprintf("line %d is short %s %s", l.Number, l.ShortfallText(), l.Unit))
			}
		}
		if len(short) == 0 {
			return o.Number + " allocated in full"
		}
		return o.Number + " " + o.Status.Title() + ": " + strings.Join(short, "; ")
	case "release":
		return o.Number + ": allocations released"
	case "pick":
		if o.Status == orders.Picked {
			return o.Number + " picked: ready to ship"
		}
		return o.Number + ": allocated lines marked picked"
	case "ship":
		return o.Number + " shipped"
	case "receive":
		if o.Status == orders.Received {
			return o.Number + " received in full"
		}
		return o.Number + ": receipt recorded, more to come"
	case "close":
		return o.Number + " closed"
	case "cancel":
		return o.Number + " cancelled"
	}
	return ""
}

// formLines reads the line_id values a form names (none: the whole order).
func formLines(r *http.Request) ([]int64, error) {
	var ids []int64
	for _, raw := range r.PostForm["line_id"] {
		id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || id <= 0 {
			return nil, fault.Field("actions", "The form named a line that is not on this order; reload the page")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// chosenFromForm reads the form that allocates one line from records a
// person chose: per record_id a quantity (empty: none of it). rename turns
// the orders package's "lines[0].records[j].field" into the record's field
// on the page.
func chosenFromForm(r *http.Request, lines []int64) (orders.AllocateInput, func(string) string, error) {
	var in orders.AllocateInput
	if len(lines) != 1 {
		return in, nil, fault.Field("actions", "The form named a line that is not on this order; reload the page")
	}
	line := orders.LineAllocation{LineID: lines[0]}
	var keys []string
	for _, raw := range r.PostForm["record_id"] {
		id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || id <= 0 {
			return in, nil, fault.Field("actions", "The form named a record that is not on offer; reload the page")
		}
		key := fmt.Sprintf("choose-%d-%d-quantity", lines[0], id)
		q := strings.TrimSpace(r.PostFormValue(key))
		if q == "" {
			continue
		}
		line.Records = append(line.Records, orders.RecordQuantity{RecordID: id, Quantity: inventory.DecimalText(q)})
		keys = append(keys, key)
	}
	rename := func(k string) string {
		for j, key := range keys {
			if strings.HasPrefix(k, fmt.Sprintf("lines[0].records[%d].", j)) {
				return key
			}
		}
		return ""
	}
	if len(line.Records) == 0 {
		return in, rename, fault.Field(fmt.Sprintf("choose-%d", lines[0]), "Enter how much to allocate from at least one record")
	}
	in.Lines = []orders.LineAllocation{line}
	return in, rename, nil
}

// receiveFromForm reads the receive form: per line of the order, a
// quantity (empty: nothing of it arrived), a location and a lot. Lines are
// posted as receive-<line id>-quantity and so on; rename turns the orders
// package's "lines[i].field" back into the field of the line it names.
func receiveFromForm(r *http.Request) (orders.ReceiveInput, func(string) string, error) {
	var in orders.ReceiveInput
	var keys []string
	for _, raw := range r.PostForm["line_id"] {
		id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || id <= 0 {
			return in, nil, fault.Field("actions", "The form named a line that is not on this order; reload the page")
		}
		key := fmt.Sprintf("receive-%d-", id)
		q := strings.TrimSpace(r.PostFormValue(key + "quantity"))
		if q == "" {
			continue
		}
		loc, err := formInt(r, key+"location_id")
		if err != nil {
			return in, nil, err
		}
		lot := r.PostFormValue(key + "lot")
		in.Lines = append(in.Lines, orders.ReceiveLine{LineID: id, Quantity: inventory.DecimalText(q), LocationID: loc, Lot: &lot})
		keys = append(keys, key)
	}
	rename := func(k string) string {
		for i, key := range keys {
			if rest, ok := strings.CutPrefix(k, fmt.Sprintf("lines[%d].", i)); ok {
				if rest == "line_id" {
					rest = "quantity"
				}
				return key + rest
			}
		}
		if k == "lines" {
			return "receive"
		}
		return ""
	}
	if len(in.Lines) == 0 {
		return in, rename, fault.Field("receive", "Enter the quantity that arrived for at least one line")
	}
	return in, rename, nil
}
