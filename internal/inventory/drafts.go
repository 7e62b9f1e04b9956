package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// A Draft is the counted lines of a batch initialize being collected, one
// scan at a time, before they are submitted together as one Initialize (all
// or nothing). Nothing here stores it: the station screen keeps it with its
// session, an API client keeps its own. These functions hold its rules, so
// both collect lines the same way.
type Draft []DraftLine

// DraftLine is one line of a Draft: an item (and lot) and its count so far,
// formatted by the item's unit.
type DraftLine struct {
	SKU      string `json:"sku"`
	Lot      string `json:"lot,omitempty"`
	Quantity string `json:"quantity"`
	Unit     string `json:"unit,omitempty"`
}

// MaxDraftLines caps a draft at what one InitializeBatch accepts.
const MaxDraftLines = 1000

// maxDraftQuantity keeps a line's running count within what ParseQuantity
// accepts (twelve whole digits), so the submitted batch can parse it.
const maxDraftQuantity = Quantity(1e18)

// CountedLine is one scan to add to a draft, as typed or scanned.
type CountedLine struct {
	SKU      string      `json:"sku"`
	Lot      string      `json:"lot,omitempty"`
	Quantity DecimalText `json:"quantity"`
}

// DraftScan is a counted line to add to a draft.
type DraftScan struct {
	Draft Draft       `json:"lines"`
	Line  CountedLine `json:"line"`
}

// DraftAddition is a draft after a counted line was added, and what the
// addition did.
type DraftAddition struct {
	Draft Draft `json:"lines"`
	// Line is the line (from 1) that took the count.
	Line int `json:"line"`
	// Merged is true when the SKU and lot were already in the draft: the
	// count was added to that line's.
	Merged bool `json:"merged"`
	// Counted is this scan's quantity, Before the line's count before it
	// (zero for a new line), both formatted by the item's unit.
	Counted string `json:"counted"`
	Before  string `json:"before"`
}

// Added is the line that took the count.
func (a DraftAddition) Added() DraftLine { return a.Draft[a.Line-1] }

// DecodeDraft reads a draft as EncodeDraft wrote it. An unreadable draft is
// an empty one: losing a half-scanned batch beats a screen that cannot open.
func DecodeDraft(raw string) Draft {
	if raw == "" {
		return nil
	}
	var d Draft
	if json.Unmarshal([]byte(raw), &d) != nil {
		return nil
	}
	return d
}

// EncodeDraft writes d for keeping; an empty draft is "".
func EncodeDraft(d Draft) (string, error) {
	if len(d) == 0 {
		return "", nil
	}
	b, err := json.Marshal(d)
	return string(b), err
}

// AddToDraft checks a counted line (a known SKU, a count the item's unit
// allows, not negative) and adds it to the draft. Scanning a SKU and lot
// already in the draft adds to that line's count, so counting by scanning
// each piece works. The draft given is not changed; the result holds the
// new one.
func AddToDraft(ctx context.Context, db *store.DB, s DraftScan) (DraftAddition, error) {
	d, c := s.Draft, s.Line
	// A draft exists only to be submitted as an initialize.
	a, err := actor.Require(ctx, actor.MoveStock)
	if err != nil {
		return DraftAddition{}, err
	}
	sku, lot := strings.TrimSpace(c.SKU), strings.TrimSpace(c.Lot)
	if sku == "" {
		return DraftAddition{}, fault.Field("sku", "scan or type a SKU")
	}
	if len(d) > MaxDraftLines {
		return DraftAddition{}, fault.Field("lines", fmt.Sprintf("at most %d lines", MaxDraftLines))
	}
	it, err := itemBySKU(ctx, db.Read(), a.WorkspaceID, sku)
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			return DraftAddition{}, fault.Field("sku", fmt.Sprintf("there is no item with SKU %s", sku))
		}
		return DraftAddition{}, err
	}
	q, err := ParseQuantity(string(c.Quantity), it.Scale)
	if err != nil {
		return DraftAddition{}, fault.Field("quantity", err.Error())
	}
	if q < 0 {
		return DraftAddition{}, fault.Field("quantity", "a counted quantity may not be negative")
	}
	if len(lot) > 64 {
		return DraftAddition{}, fault.Field("lot", "at most 64 characters")
	}
	next := append(Draft(nil), d...)
	for i, l := range next {
		if l.SKU != it.SKU || l.Lot != lot {
			continue
		}
		before, err := ParseQuantity(l.Quantity, it.Scale)
		if err != nil {
			before = 0 // the unit's decimals changed since: the new count replaces it
		}
		sum := before + q
		if sum > maxDraftQuantity {
			return DraftAddition{}, fault.Field("quantity", "too large")
		}
		next[i].Quantity, next[i].Unit = sum.Format(it.Scale), it.Unit
		return DraftAddition{Draft: next, Line: i + 1, Merged: true, Counted: q.Format(it.Scale), Before: before.Format(it.Scale)}, nil
	}
	if len(next) >= MaxDraftLines {
		return DraftAddition{}, fault.New(fault.Invalid, "a batch holds at most %d lines; submit this one first", MaxDraftLines)
	}
	next = append(next, DraftLine{SKU: it.SKU, Lot: lot, Quantity: q.Format(it.Scale), Unit: it.Unit})
	return DraftAddition{Draft: next, Line: len(next), Counted: q.Format(it.Scale), Before: Quantity(0).Format(it.Scale)}, nil
}

// Remove returns d without line n (from 1), and the line removed.
func (d Draft) Remove(n int) (Draft, DraftLine, error) {
	if n < 1 || n > len(d) {
		return d, DraftLine{}, fault.Field("line", "no such line in the batch")
	}
	rest := append(append(Draft(nil), d[:n-1]...), d[n:]...)
	return rest, d[n-1], nil
}

// Initialize is the batch initialize that submits d at a location.
func (d Draft) Initialize(where LocationRef, opts Options) (Initialize, error) {
	if len(d) == 0 {
		return Initialize{}, fault.Field("lines", "scan at least one line first")
	}
	in := Initialize{LocationRef: where, Options: opts}
	for _, l := range d {
		in.Lines = append(in.Lines, InitializeLine{ItemRef: ItemRef{SKU: l.SKU}, Lot: l.Lot, Quantity: DecimalText(l.Quantity)})
	}
	return in, nil
}
