package inventory

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The change log in the words people use. An entry stores the seed's action
// type (user_action, create_record, …) and the movement that wrote it
// (receipt, move, …); people read what happened: "Receipt", "Move out",
// "Correction: damaged in handling". The action type stays beside it as
// secondary text and as a filter, and exports keep the stored values.

// MovementName is a movement kind ("receipt", "reconciliation") as a noun
// people use ("Receipt", "Count"), for headings and confirmations.
func MovementName(kind string) string {
	switch kind {
	case "receipt":
		return "Receipt"
	case "issue":
		return "Issue"
	case "move":
		return "Move"
	case "split":
		return "Split"
	case "merge":
		return "Merge"
	case "initialize":
		return "Batch count"
	case "correction":
		return "Correction"
	case "reconciliation":
		return "Count"
	case "allocate":
		return "Allocation"
	case "release":
		return "Release"
	case "ship":
		return "Shipment"
	case "bulk_update":
		return "Bulk update"
	case "create":
		return "New record"
	case "update":
		return "Lot change"
	case "delete":
		return "Record deleted"
	}
	if kind == "" {
		return "Change"
	}
	return strings.ToUpper(kind[:1]) + strings.ReplaceAll(kind[1:], "_", " ")
}

// Description says what the entry records in words: the movement, which
// side of it the entry is for a two-record movement (move, split, merge),
// and the detail a person looks for first (a correction's reason, an
// allocation's holder).
func (e Entry) Description() string {
	side := func(out, in string) string {
		if e.Change < 0 {
			return out
		}
		return in
	}
	switch e.Movement {
	case "move":
		return side("Move out", "Move in")
	case "split":
		return side("Split off to a new lot", "Split into this lot")
	case "merge":
		if e.Action == DeleteRecordAction {
			return "Merged away (record closed)"
		}
		return side("Merged out", "Merged in")
	case "correction":
		if e.Reason != "" {
			return "Correction: " + e.Reason
		}
		return "Correction"
	case "allocate":
		if e.Reference != "" {
			return "Allocated to " + e.Reference
		}
		return "Allocated"
	case "release":
		return "Released"
	case "ship":
		return "Shipped"
	case "create":
		return "Record created"
	case "delete":
		return "Record deleted"
	}
	return MovementName(e.Movement)
}

// Label is the seed's action type as a filter offers it, in words
// ("user_correction" → "Corrections"): the kinds of entry it selects. The
// webhook form offers the same kinds.
func (a Action) Label() string {
	switch a {
	case Scan:
		return "Scans at stations"
	case UserCorrection:
		return "Corrections"
	case UserAction:
		return "Movements by people"
	case SystemAction:
		return "System actions"
	case CreateRecordAction:
		return "Records created"
	case UpdateRecordAction:
		return "Records updated"
	case DeleteRecordAction:
		return "Records deleted"
	}
	s := string(a)
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
}

// Folded is a change-log entry as a page lists it: with the entry that
// created its record in the same movement, when there is one. A receipt
// into a new lot, a move to a new bin or a count of a missing record first
// writes a create_record entry of zero (the record comes into being), then
// the movement's own; people read them as one thing that happened. The
// creation entry stays in the log, its exports and the API: only a page
// folds it, and shows it on request.
type Folded struct {
	Entry
	// Created is the create_record entry folded into this one, if any.
	Created *Entry
}

// FoldCreations folds each zero create_record entry into the entry of the
// movement that wrote it (same record, same recorded time, same party) when
// both are in entries; the rest are kept as they are, in their order.
func FoldCreations(entries []Entry) []Folded {
	type key struct {
		record    int64
		at        time.Time
		kind      string
		actorID   int64
		actorName string
	}
	keyOf := func(e Entry) key { return key{e.RecordID, e.RecordedAt.UTC(), e.ActorKind, e.ActorID, e.ActorName} }
	creations := map[key]int{}
	for i, e := range entries {
		if e.isCreationOfMovement() {
			creations[keyOf(e)] = i
		}
	}
	folded := map[int]bool{}
	into := map[int]int{}
	for i, e := range entries {
		if e.Movement == "create" {
			continue
		}
		k := keyOf(e)
		if j, ok := creations[k]; ok && !folded[j] {
			folded[j] = true
			into[i] = j
		}
	}
	out := make([]Folded, 0, len(entries))
	for i, e := range entries {
		if folded[i] {
			continue
		}
		f := Folded{Entry: e}
		if j, ok := into[i]; ok {
			c := entries[j]
			f.Created = &c
		}
		out = append(out, f)
	}
	return out
}

// isCreationOfMovement reports whether e is the zero create_record entry a
// movement writes before its own (not a record created on purpose, with
// its opening quantity, by "New record").
func (e Entry) isCreationOfMovement() bool {
	return e.Action == CreateRecordAction && e.Movement == "create" && e.Change == 0
}

// CreationText says what a folded creation entry was, for the line shown
// on expanding it.
func (e Entry) CreationText() string {
	where := e.LocationPath
	if e.Lot != "" {
		where += " lot " + e.Lot
	}
	return fmt.Sprintf("The record of %s at %s was created first (%s, change 0)", e.SKU, where, e.Action)
}

// maxLotChoices bounds the lots a refusal names.
const maxLotChoices = 20

// LotChoices is why a movement that named no lot (or a lot with no record)
// was refused although the item is at the location in lots: the lots, with
// what each holds, so that a screen can offer them.
type LotChoices struct {
	SKU, LocationPath, Unit string
	Lots                    []LotLevel
}

// LotLevel is one lot of an item at a location and its quantity on hand.
type LotLevel struct {
	Lot      string `json:"lot"`
	Quantity string `json:"quantity"`
}

func (l *LotChoices) Error() string { return l.sentence("") }

// sentence says where the stock is, for a movement that asked for lot.
func (l *LotChoices) sentence(lot string) string {
	var parts []string
	for _, c := range l.Lots {
		name := c.Lot
		if name == "" {
			name = "no lot"
		}
		parts = append(parts, fmt.Sprintf("%s (%s %s)", name, c.Quantity, l.Unit))
	}
	if lot == "" {
		return fmt.Sprintf("%s at %s is kept in lots: %s. Say which lot.", l.SKU, l.LocationPath, strings.Join(parts, ", "))
	}
	return fmt.Sprintf("%s has no lot %s at %s; it is kept there in lots: %s. Say which lot.", l.SKU, lot, l.LocationPath, strings.Join(parts, ", "))
}

// LotsOffered returns the lots a refusal offers instead, if it offers any.
func LotsOffered(err error) (*LotChoices, bool) {
	var l *LotChoices
	ok := errors.As(err, &l)
	return l, ok
}
