package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
)

// The station screen (/station) is what a tablet or handheld scanner at a
// bench opens: it signs in with the station's token and then records
// receipts, issues, counts and batch initializes at the station's location,
// as the station (log action `scan`). Its session cookie is scoped to
// /station and honoured there only, so a station's browser can do nothing
// else, and users' sessions never reach it.

// StationCookie names the station screen's session cookie.
const StationCookie = "stocktrail_station"

const stationPath = "/station"

// IsStationPath reports whether path belongs to the station screen, where
// the station cookie (and only it) is read.
func IsStationPath(path string) bool {
	return path == stationPath || strings.HasPrefix(path, stationPath+"/")
}

func setStationCookie(w http.ResponseWriter, value string, secure bool, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: StationCookie, Value: value, Path: stationPath, HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode, Expires: expires})
}

// ClearStationCookie tells the browser to forget its station session.
func ClearStationCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: StationCookie, Value: "", Path: stationPath, HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

func (wb *Web) registerStation(mux *http.ServeMux) {
	mux.HandleFunc("GET /station", wb.stationPage(wb.stationScreen))
	mux.HandleFunc("POST /station/sign-in", wb.stationPage(wb.stationSignIn))
	mux.HandleFunc("POST /station/sign-out", wb.stationPage(wb.stationSignOut))
	mux.HandleFunc("POST /station/scan", wb.stationPage(wb.stationScan))
	mux.HandleFunc("POST /station/batch", wb.stationPage(wb.stationBatch))
}

// stationPage is page for the station screen: a request that is not (or no
// longer) signed in as a station goes back to the sign-in form, with the
// reason.
func (wb *Web) stationPage(h handler) http.HandlerFunc {
	return wb.page(func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		if err != nil && fault.KindOf(err) == fault.Unauthorized {
			msg := sessionProblem(r.Context())
			if msg == "" {
				msg = fault.PublicMessage(err)
			}
			http.Redirect(w, r, stationPath+"?msg="+url.QueryEscape(msg), http.StatusSeeOther)
			return nil
		}
		return err
	})
}

// signedInStation returns the station a request acts as through the station
// screen's session (not a bearer token, nor a user).
func signedInStation(r *http.Request) (actor.Actor, error) {
	a, ok := actor.From(r.Context())
	if !ok || a.Kind != actor.Station || sessionToken(r.Context()) == "" {
		return actor.Actor{}, fault.New(fault.Unauthorized, "sign in with the station's token first")
	}
	return a, nil
}

// stationModes are the scan form's modes, in screen order.
var stationModes = []struct{ Value, Label, Hint string }{
	{"receive", "Receive", "adds the quantity"},
	{"issue", "Issue", "takes the quantity out"},
	{"count", "Count", "sets the record to the counted quantity"},
	{"batch", "Batch initialize", "collects counted lines; submit them all at once"},
	{"order", "Order", "picks or receives against an order"},
}

func validMode(m string) bool {
	for _, s := range stationModes {
		if s.Value == m {
			return true
		}
	}
	return false
}

// draftRow is a line of the batch being scanned as the screen lists it,
// numbered from 1 (the number a Remove button posts).
type draftRow struct {
	N int
	inventory.DraftLine
}

type stationView struct {
	SignedIn     bool
	Name         string
	LocationPath string
	// Locations are offered when the station is bound to none.
	Locations []inventory.Location
	Location  string
	Modes     []struct{ Value, Label, Hint string }
	Mode      string
	Quantity  string
	Lot       string
	// Draft is the batch being scanned, kept with the station's session;
	// Lines lists it.
	Draft  inventory.Draft
	Lines  []draftRow
	Recent []inventory.Entry
	// Lots are offered when a scan named no lot (or a wrong one) of stock
	// kept in lots; LotsQuantity is the quantity the scan asked for.
	Lots         *inventory.LotChoices
	LotsQuantity string
	// Order is the order open in Order mode (nil when none); OrderWork is
	// what the station does with it ("pick" or "receive").
	Order     *orders.Order
	OrderWork string
}

// QuantityOptional reports whether the scan may leave the quantity empty:
// a pick takes the line's whole allocation.
func (v stationView) QuantityOptional() bool { return v.Mode == "order" && v.OrderWork == "pick" }

// OrderLines are the lines of the open order the station works on: for a
// pick those holding stock (picked or not), for a receipt all.
func (v stationView) OrderLines() []orders.Line {
	if v.Order == nil {
		return nil
	}
	var out []orders.Line
	for _, l := range v.Order.Lines {
		if v.OrderWork != "pick" || l.Allocated > 0 {
			out = append(out, l)
		}
	}
	return out
}

// Bound reports whether the station works at its own location.
func (v stationView) Bound() bool { return v.LocationPath != "" }

// where is the location the next movement happens at: the station's own, or
// the one picked on an unbound station's screen.
func (v stationView) where() inventory.LocationRef {
	if v.Bound() {
		return inventory.LocationRef{}
	}
	return inventory.LocationRef{Location: v.Location}
}

func (wb *Web) stationScreen(w http.ResponseWriter, r *http.Request) error {
	a, err := signedInStation(r)
	if err != nil {
		var problem error
		if msg := r.URL.Query().Get("msg"); msg != "" {
			problem = fault.New(fault.Unauthorized, "%s", msg)
		} else if msg := sessionProblem(r.Context()); msg != "" {
			problem = fault.New(fault.Unauthorized, "%s", msg)
		}
		wb.render(w, r, http.StatusOK, "station.html", "Station", stationView{}, problem)
		return nil
	}
	v, err := wb.stationView(r, a)
	if err != nil {
		return err
	}
	if v, err = wb.withListings(r, v); err != nil {
		return err
	}
	return wb.show(w, r, "station.html", "Station · "+a.Name, v, nil)
}

// stationForm reads a posted station form: the signed-in station, the
// form, and the screen it was posted from.
func (wb *Web) stationForm(w http.ResponseWriter, r *http.Request) (actor.Actor, stationView, error) {
	a, err := signedInStation(r)
	if err != nil {
		return a, stationView{}, err
	}
	if err := parseForm(w, r); err != nil {
		return a, stationView{}, err
	}
	v, err := wb.stationView(r, a)
	return a, v, err
}

// stationView gathers what the screen shows: the station, its location,
// the batch being scanned and the station's recent scans.
func (wb *Web) stationView(r *http.Request, a actor.Actor) (stationView, error) {
	ctx := r.Context()
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	v := stationView{SignedIn: true, Name: a.Name, Modes: stationModes, Mode: q.Get("mode"), Quantity: "1",
		Location: strings.TrimSpace(q.Get("location"))}
	if !validMode(v.Mode) {
		v.Mode = "receive"
	}
	if a.LocationID != 0 {
		loc, err := inventory.GetLocation(ctx, wb.cfg.DB, a.LocationID)
		if err != nil && fault.KindOf(err) != fault.NotFound {
			return v, err
		}
		v.LocationPath = loc.Path
	}
	draft, err := wb.draft(r)
	if err != nil {
		return v, err
	}
	v.setDraft(draft)
	if number := strings.TrimSpace(q.Get("order")); v.Mode == "order" && number != "" {
		o, err := orders.ByNumber(ctx, wb.cfg.DB, number)
		if err != nil && fault.KindOf(err) != fault.NotFound {
			return v, err
		}
		if err == nil {
			v.Order = &o
			v.OrderWork, _ = o.StationWork()
		}
	}
	if v.QuantityOptional() {
		v.Quantity = ""
	}
	return v, nil
}

// withListings adds what only a rendered screen shows: the locations an
// unbound station picks from and the station's recent scans. A scan that
// succeeds redirects, so it never reads them.
func (wb *Web) withListings(r *http.Request, v stationView) (stationView, error) {
	a, err := signedInStation(r)
	if err != nil {
		return v, err
	}
	if v.LocationPath == "" {
		if v.Locations, err = inventory.ListLocations(r.Context(), wb.cfg.DB, false); err != nil {
			return v, err
		}
	}
	page, err := inventory.ListLog(r.Context(), wb.cfg.DB, inventory.LogFilter{ActorKind: string(actor.Station), ActorID: a.ID, Limit: 15})
	if err != nil {
		return v, err
	}
	v.Recent = page.Entries
	return v, nil
}

func (v *stationView) setDraft(d inventory.Draft) {
	v.Draft, v.Lines = d, make([]draftRow, len(d))
	for i, l := range d {
		v.Lines[i] = draftRow{N: i + 1, DraftLine: l}
	}
}

// draft is the batch the station's session holds.
func (wb *Web) draft(r *http.Request) (inventory.Draft, error) {
	raw, err := wb.cfg.Auth.StationDraft(r.Context(), sessionToken(r.Context()))
	if err != nil {
		return nil, err
	}
	return inventory.DecodeDraft(raw), nil
}

func (wb *Web) saveDraft(r *http.Request, d inventory.Draft) error {
	raw, err := inventory.EncodeDraft(d)
	if err != nil {
		return err
	}
	return wb.cfg.Auth.SetStationDraft(r.Context(), sessionToken(r.Context()), raw)
}

func (wb *Web) stationSignIn(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	sess, err := wb.cfg.Auth.StationSignIn(r.Context(), r.PostFormValue("token"))
	if err != nil {
		if fault.KindOf(err) == fault.Internal {
			return err
		}
		wb.render(w, r, fault.HTTPStatus(fault.KindOf(err)), "station.html", "Station", stationView{}, err)
		return nil
	}
	setStationCookie(w, sess.Token, isSecure(r.Context()), sess.ExpiresAt.Add(auth.StationSessionMax))
	return redirect(w, r, stationPath, "Signed in as "+sess.Station.Name)
}

func (wb *Web) stationSignOut(w http.ResponseWriter, r *http.Request) error {
	if _, err := signedInStation(r); err == nil {
		if err := wb.cfg.Auth.StationSignOut(r.Context(), sessionToken(r.Context())); err != nil {
			return err
		}
	}
	ClearStationCookie(w, isSecure(r.Context()))
	return redirect(w, r, stationPath, "Signed out")
}

// back is where the screen goes after a submit: the same mode (and picked
// location), with the confirmation.
func (v stationView) back(w http.ResponseWriter, r *http.Request, msg string) error {
	q := url.Values{"mode": {v.Mode}}
	if !v.Bound() && v.Location != "" {
		q.Set("location", v.Location)
	}
	if v.Mode == "order" && v.Order != nil {
		q.Set("order", v.Order.Number)
	}
	return redirect(w, r, stationPath+"?"+q.Encode(), msg)
}

// stationScan records one scan: a receipt, an issue or a count through
// inventory, or a line added to the batch being scanned.
func (wb *Web) stationScan(w http.ResponseWriter, r *http.Request) error {
	_, v, err := wb.stationForm(w, r)
	if err != nil {
		return err
	}
	f := r.PostForm
	sku, lot := strings.TrimSpace(f.Get("sku")), strings.TrimSpace(f.Get("lot"))
	qty := inventory.DecimalText(strings.TrimSpace(f.Get("quantity")))
	if !validMode(f.Get("mode")) {
		return wb.stationFailed(w, r, v, fault.Field("mode", "pick Receive, Issue, Count, Batch initialize or Order"))
	}
	if v.Mode == "order" {
		return wb.stationOrderScan(w, r, v, sku, qty)
	}
	if sku == "" {
		return wb.stationFailed(w, r, v, fault.Field("sku", "scan or type a SKU"))
	}
	ref := inventory.RecordRef{ItemRef: inventory.ItemRef{SKU: sku}, LocationRef: v.where(), Lot: lot}
	var res inventory.Result
	var verb string
	switch v.Mode {
	case "receive":
		verb = "Received"
		res, err = inventory.Receive(r.Context(), wb.cfg.DB, inventory.Receipt{ItemRef: ref.ItemRef, LocationRef: ref.LocationRef, Lot: lot, Quantity: qty})
	case "issue":
		verb = "Issued"
		res, err = inventory.IssueStock(r.Context(), wb.cfg.DB, inventory.Issue{RecordRef: ref, Quantity: qty})
	case "count":
		verb = "Counted"
		res, err = inventory.Reconcile(r.Context(), wb.cfg.DB, inventory.Reconciliation{RecordRef: ref, Counted: qty})
	case "batch":
		msg, err := wb.addDraftLine(r, &v, sku, lot, string(qty))
		if err != nil {
			return wb.stationFailed(w, r, v, err)
		}
		return v.back(w, r, msg)
	}
	if err != nil {
		return wb.stationFailed(w, r, v, err)
	}
	if len(res.Records) == 0 && v.Mode == "count" {
		// The count matched the record: nothing was written, the level is the count.
		if it, err := inventory.ItemBySKU(r.Context(), wb.cfg.DB, sku); err == nil {
			counted, _ := inventory.ParseQuantity(string(qty), it.Scale)
			where := v.LocationPath
			if !v.Bound() {
				where = v.Location
			}
			if lot != "" {
				where += " lot " + lot
			}
			return v.back(w, r, fmt.Sprintf("Counted %s: no change, new level %s %s at %s", it.SKU, counted.Format(it.Scale), it.Unit, where))
		}
	}
	return v.back(w, r, confirmation(verb, sku, res))
}

// confirmation is the line shown after a movement: SKU, change, new level.
func confirmation(verb, sku string, res inventory.Result) string {
	if len(res.Records) == 0 {
		return verb + " " + sku
	}
	rec := res.Records[0]
	var change inventory.Quantity
	for _, e := range res.Entries {
		if e.RecordID == rec.ID {
			change += e.Change
		}
	}
	where := rec.LocationPath
	if rec.Lot != "" {
		where += " lot " + rec.Lot
	}
	diff := "no change"
	if change != 0 {
		diff = signed(change, rec.Scale) + " " + rec.Unit
	}
	return fmt.Sprintf("%s %s: %s, new level %s %s at %s", verb, rec.SKU, diff, rec.QuantityText(), rec.Unit, where)
}

func signed(q inventory.Quantity, scale int) string {
	if q > 0 {
		return "+" + q.Format(scale)
	}
	return q.Format(scale)
}

// addDraftLine adds a counted line to the batch (see inventory.AddToDraft)
// and says what it did.
func (wb *Web) addDraftLine(r *http.Request, v *stationView, sku, lot, qty string) (string, error) {
	add, err := inventory.AddToDraft(r.Context(), wb.cfg.DB, inventory.DraftScan{Draft: v.Draft,
		Line: inventory.CountedLine{SKU: sku, Lot: lot, Quantity: inventory.DecimalText(qty)}})
	if err != nil {
		return "", err
	}
	if err := wb.saveDraft(r, add.Draft); err != nil {
		return "", err
	}
	v.setDraft(add.Draft)
	l := add.Added()
	if add.Merged {
		return fmt.Sprintf("Batch line %d: %s counted %s + %s = %s %s", add.Line, l.SKU, add.Before, add.Counted, l.Quantity, l.Unit), nil
	}
	return fmt.Sprintf("Batch line %d: %s counted %s %s (not saved until you submit the batch)", add.Line, l.SKU, add.Counted, l.Unit), nil
}

// stationBatch submits the scanned lines as one batch initialize (all or
// nothing), or removes a line, or clears the batch.
func (wb *Web) stationBatch(w http.ResponseWriter, r *http.Request) error {
	_, v, err := wb.stationForm(w, r)
	if err != nil {
		return err
	}
	v.Mode = "batch"
	switch r.PostFormValue("action") {
	case "clear":
		if err := wb.saveDraft(r, nil); err != nil {
			return err
		}
		return v.back(w, r, "Batch cleared")
	case "remove":
		n, _ := strconv.Atoi(r.PostFormValue("line")) // not a number: no such line
		rest, removed, err := v.Draft.Remove(n)
		if err != nil {
			return wb.stationFailed(w, r, v, err)
		}
		if err := wb.saveDraft(r, rest); err != nil {
			return err
		}
		return v.back(w, r, fmt.Sprintf("Removed line %d (%s)", n, removed.SKU))
	case "submit":
		in, err := v.Draft.Initialize(v.where(), inventory.Options{Reference: "station screen batch"})
		if err != nil {
			return wb.stationFailed(w, r, v, err)
		}
		res, err := inventory.InitializeBatch(r.Context(), wb.cfg.DB, in)
		if err != nil {
			return wb.stationFailed(w, r, v, err)
		}
		if err := wb.saveDraft(r, nil); err != nil {
			return err
		}
		changed := map[int64]bool{}
		for _, e := range res.Entries {
			if e.Change != 0 {
				changed[e.RecordID] = true
			}
		}
		var levels []string
		for _, rec := range res.Records {
			levels = append(levels, fmt.Sprintf("%s %s %s", rec.SKU, rec.QuantityText(), rec.Unit))
		}
		return v.back(w, r, fmt.Sprintf("Batch initialized: %d lines, %d changed; new levels: %s", len(in.Lines), len(changed),
			strings.Join(levels, ", ")))
	}
	return wb.stationFailed(w, r, v, fault.Field("action", "submit, remove or clear"))
}

var batchField = regexp.MustCompile(`^lines\[(\d+)\]\.?(.*)$`)

// stationFailed shows the screen again with a readable message: what the
// operator scanned and what is wrong, without the API's field names. Nothing
// was changed.
func (wb *Web) stationFailed(w http.ResponseWriter, r *http.Request, v stationView, err error) error {
	e, ok := fault.As(err)
	if !ok || e.Kind == fault.Internal || e.Kind == fault.Unauthorized {
		return err
	}
	msg := e.Message
	if v.Mode == "order" {
		// Orders' messages name the line and the item themselves; a
		// refusal beyond the station's reach says it in its message.
		if (e.Kind != fault.Forbidden || msg == "") && len(e.Fields) == 1 {
			for _, text := range e.Fields {
				msg = text
			}
		}
	} else if len(e.Fields) == 1 {
		for field, text := range e.Fields {
			label := field
			if m := batchField.FindStringSubmatch(field); m != nil {
				n, _ := strconv.Atoi(m[1])
				label = fmt.Sprintf("line %d", n+1)
				if n < len(v.Lines) {
					label += " (" + v.Lines[n].SKU + ")"
				}
				if m[2] != "" {
					label += " " + m[2]
				}
			}
			if lots, ok := inventory.LotsOffered(err); ok && field == "lot" {
				// The stock is there, in lots: say so and offer them.
				v.Lots, v.LotsQuantity = lots, strings.TrimSpace(r.PostFormValue("quantity"))
				msg = text
				break
			}
			switch field {
			case "sku", "record_id", "item_id":
				msg = text // already names the SKU or the stock
			case "counted":
				msg = "quantity: " + text
			default:
				msg = label + ": " + text
			}
		}
	}
	msg = strings.ReplaceAll(msg, ` (lot "")`, "") // most stations count no lots
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	// The SKU field is empty again for the next scan: say what was scanned.
	if sku := strings.TrimSpace(r.PostFormValue("sku")); sku != "" && !strings.Contains(msg, sku) {
		msg = sku + " — " + msg
	}
	status := fault.Invalid
	if e.Kind != fault.NotFound {
		status = e.Kind
	}
	if v, err = wb.withListings(r, v); err != nil {
		return err
	}
	wb.render(w, r, fault.HTTPStatus(status), "station.html", "Station · "+v.Name, v, &fault.Error{Kind: status, Message: msg, Fields: e.Fields})
	return nil
}

// stationOrderScan is a scan in Order mode: an order number opens that
// order; a SKU picks (outbound) or receives (inbound) the open order's line
// of that item through orders.Pick or orders.Receive, as the station, so
// its reach applies. Like every scan it answers in one line and redirects,
// so reloading the page repeats nothing.
func (wb *Web) stationOrderScan(w http.ResponseWriter, r *http.Request, v stationView, scanned string, qty inventory.DecimalText) error {
	ctx := r.Context()
	if number := strings.ToUpper(scanned); orders.IsNumber(number) {
		o, err := orders.ByNumber(ctx, wb.cfg.DB, number)
		if fault.KindOf(err) == fault.NotFound {
			return wb.stationFailed(w, r, v, fault.Field("order", "no order has the number "+number))
		}
		if err != nil {
			return err
		}
		work, why := o.StationWork()
		if work == "" {
			return wb.stationFailed(w, r, v, fault.Field("order", why))
		}
		v.Order, v.OrderWork = &o, work
		left := 0
		for _, l := range v.OrderLines() {
			if (work == "pick" && l.Pickable(v.LocationPath)) || (work == "receive" && l.Outstanding() > 0) {
				left++
			}
		}
		return v.back(w, r, fmt.Sprintf("%s · %s: %s to %s", o.Number, o.Party, count(left, "line", "lines"), work))
	}
	if v.Order == nil {
		return wb.stationFailed(w, r, v, fault.Field("order", "scan the order's number (SO-… or PO-…) first"))
	}
	scan := orders.Scan{SKU: scanned, Quantity: qty, Lot: r.PostFormValue("lot"), Home: v.LocationPath}
	if v.Bound() {
		a, _ := actor.From(ctx)
		scan.HomeID = a.LocationID
	} else if v.Location != "" {
		// An unbound station receives into the location picked on its
		// screen.
		locs, err := inventory.ListLocations(ctx, wb.cfg.DB, false)
		if err != nil {
			return err
		}
		for _, l := range locs {
			if l.Path == v.Location {
				scan.HomeID = l.ID
			}
		}
	}
	o := *v.Order
	switch v.OrderWork {
	case "pick":
		in, l, err := o.PickScan(scan)
		if err != nil {
			return wb.stationFailed(w, r, v, err)
		}
		after, err := orders.Pick(ctx, wb.cfg.DB, o.ID, in)
		if err != nil {
			return wb.stationFailed(w, r, v, err)
		}
		v.Order = &after
		msg := fmt.Sprintf("Picked %s: line %d of %s, %s %s", l.SKU, l.Number, o.Number, l.AllocatedText(), l.Unit)
		if after.Status == orders.Picked {
			msg += fmt.Sprintf("; %s is picked, ready to ship", o.Number)
		}
		return v.back(w, r, msg)
	case "receive":
		in, l, err := o.ReceiveScan(scan)
		if err != nil {
			return wb.stationFailed(w, r, v, err)
		}
		after, err := orders.Receive(ctx, wb.cfg.DB, o.ID, in)
		if err != nil {
			return wb.stationFailed(w, r, v, err)
		}
		v.Order = &after
		now, _ := after.Line(l.ID)
		msg := fmt.Sprintf("Received %s for %s line %d: +%s %s, %s of %s received", l.SKU, o.Number, l.Number,
			(now.Received - l.Received).Format(l.Scale), l.Unit, now.ReceivedText(), now.QuantityText())
		if after.Status == orders.Received {
			msg += fmt.Sprintf("; %s is received in full", o.Number)
		}
		return v.back(w, r, msg)
	}
	_, why := o.StationWork()
	return wb.stationFailed(w, r, v, fault.Field("order", why))
}
