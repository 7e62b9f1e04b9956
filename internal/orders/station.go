package orders

import (
	"fmt"
	"strings"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

// A scanning station works against an order line by line: it opens the
// order by its number, and each scanned SKU picks (outbound) or receives
// (inbound) the order's line of that item. What a scan means is decided
// here, from the order as read; Pick and Receive then check it all again
// under the order's lock (another request may have changed it).

// Scan is one scan at a station against an order.
type Scan struct {
	SKU string
	// Lot, when set, is the lot a receipt books (else the line's).
	Lot string
	// Quantity is what the operator counted: for a pick, empty or the
	// line's whole allocation (a line is picked whole); for a receipt, what
	// arrived.
	Quantity inventory.DecimalText
	// Home is the path of the station's location ("" for anywhere), and
	// HomeID its id: a station picks stock at Home and below, and receives
	// into the line's location when it lies there, else into Home.
	Home   string
	HomeID int64
}

// under reports whether path is home or below it ("" home: everywhere).
func under(path, home string) bool {
	return home == "" || path == home || strings.HasPrefix(path, home+"/")
}

// Pickable reports whether a station at home may pick the line: it holds
// stock, is not picked yet, and all of it lies at home or below.
func (l Line) Pickable(home string) bool {
	if l.Allocated == 0 || l.Picked {
		return false
	}
	for _, a := range l.Allocations {
		if !under(a.LocationPath, home) {
			return false
		}
	}
	return true
}

// Outstanding is what an inbound line still expects.
func (l Line) Outstanding() inventory.Quantity { return max(l.Quantity-l.Received, 0) }

// OutstandingText formats Outstanding with the unit's decimals.
func (l Line) OutstandingText() string { return l.Outstanding().Format(l.Scale) }

// ReceivesInto is the path a station at home receives the line into: the
// line's location when it lies at home or below, else home ("" when
// neither is known: an unbound station picks one).
func (l Line) ReceivesInto(home string) string {
	if l.LocationID != 0 && under(l.LocationPath, home) {
		return l.LocationPath
	}
	return home
}

// StationWork says what a station may do with the order now: "pick",
// "receive", or "" with the reason it may do nothing.
func (o Order) StationWork() (string, string) {
	switch {
	case o.Kind == Outbound && (o.Status == Allocated || o.Status == PartiallyAllocated):
		return "pick", ""
	case o.Kind == Inbound && (o.Status == Confirmed || o.Status == PartiallyReceived):
		return "receive", ""
	case o.Kind == Outbound && o.Status == Confirmed:
		return "", fmt.Sprintf("%s holds no stock yet: a planner allocates it before it is picked", o.Number)
	case o.Kind == Inbound && o.Status == Draft, o.Kind == Outbound && o.Status == Draft:
		return "", fmt.Sprintf("%s is a draft: it is confirmed before stock moves for it", o.Number)
	}
	return "", fmt.Sprintf("%s is %s: nothing is left to %s", o.Number, o.Status.Title(), map[Kind]string{Outbound: "pick", Inbound: "receive"}[o.Kind])
}

// linesOf returns the order's lines of the scanned SKU.
func (o Order) linesOf(sku string) ([]Line, error) {
	sku = strings.TrimSpace(sku)
	if sku == "" {
		return nil, fault.Field("sku", "scan or type a SKU")
	}
	var out []Line
	for _, l := range o.Lines {
		if l.SKU == sku {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fault.Field("sku", fmt.Sprintf("%s is not on %s", sku, o.Number))
	}
	return out, nil
}

// PickScan turns a scan into Pick's input: the first line of the SKU that
// the station may pick. A counted quantity must be the line's whole
// allocation, since the line is picked (and later shipped) whole.
func (o Order) PickScan(s Scan) (LinesInput, Line, error) {
	if work, why := o.StationWork(); work != "pick" {
		if why == "" {
			why = o.Number + " is a purchase order: receive against it"
		}
		return LinesInput{}, Line{}, fault.Field("order", why)
	}
	lines, err := o.linesOf(s.SKU)
	if err != nil {
		return LinesInput{}, Line{}, err
	}
	var l Line
	for _, c := range lines {
		if c.Pickable(s.Home) {
			l = c
			break
		}
	}
	if l.ID == 0 {
		// Say why, of the line that comes closest: one holding stock
		// elsewhere, else one picked already, else one without stock.
		c := lines[0]
		for _, k := range lines {
			if k.Allocated > 0 && !k.Picked {
				c = k
				break
			} else if k.Picked && !c.Picked {
				c = k
			}
		}
		switch {
		case c.Picked:
			return LinesInput{}, Line{}, fault.Field("sku", fmt.Sprintf("line %d (%s) of %s is picked already", c.Number, c.SKU, o.Number))
		case c.Allocated == 0:
			return LinesInput{}, Line{}, fault.Field("sku", fmt.Sprintf("line %d (%s) of %s holds no stock to pick; a planner allocates it first",
				c.Number, c.SKU, o.Number))
		}
		var where []string
		for _, a := range c.Allocations {
			where = append(where, a.LocationPath)
		}
		return LinesInput{}, Line{}, &fault.Error{Kind: fault.Forbidden, Fields: map[string]string{"sku": "outside " + s.Home},
			Message: fmt.Sprintf("line %d (%s) of %s is picked at %s; this station works at %s", c.Number, c.SKU, o.Number,
				strings.Join(where, ", "), s.Home)}
	}
	if raw := strings.TrimSpace(string(s.Quantity)); raw != "" {
		q, err := inventory.ParseQuantity(raw, l.Scale)
		if err != nil {
			return LinesInput{}, Line{}, fault.Field("quantity", err.Error())
		}
		if q != l.Allocated {
			return LinesInput{}, Line{}, fault.Field("quantity", fmt.Sprintf("line %d holds %s %s of %s for %s; counted %s: pick all %s, or have a planner release the rest",
				l.Number, l.AllocatedText(), l.Unit, l.SKU, o.Number, q.Format(l.Scale), l.AllocatedText()))
		}
	}
	return LinesInput{Lines: []int64{l.ID}}, l, nil
}

// ReceiveScan turns a scan into Receive's input: the first line of the
// SKU still expecting stock (else the first of the SKU, which the
// over-receipt tolerance then judges), into the line's location when it
// lies at the station's home or below, else into the station's home.
func (o Order) ReceiveScan(s Scan) (ReceiveInput, Line, error) {
	if work, why := o.StationWork(); work != "receive" {
		if why == "" {
			why = o.Number + " is a sales order: pick against it"
		}
		return ReceiveInput{}, Line{}, fault.Field("order", why)
	}
	lines, err := o.linesOf(s.SKU)
	if err != nil {
		return ReceiveInput{}, Line{}, err
	}
	l := lines[0]
	for _, c := range lines {
		if c.Outstanding() > 0 {
			l = c
			break
		}
	}
	in := ReceiveLine{LineID: l.ID, Quantity: s.Quantity}
	if l.ReceivesInto(s.Home) != l.LocationPath || l.LocationID == 0 {
		in.LocationID = s.HomeID
	}
	if lot := strings.TrimSpace(s.Lot); lot != "" {
		in.Lot = &lot
	}
	return ReceiveInput{Lines: []ReceiveLine{in}}, l, nil
}
