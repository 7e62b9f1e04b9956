package alerts

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// Item is one sealed log entry as the rules see it: an activity event or a
// change-log entry, reduced to what some rule reads.
type Item struct {
	Log     string // logActivity or logInventory
	EntryID int64
	Seq     int64
	At      time.Time

	ActorKind string
	ActorID   int64
	ActorName string

	// Activity events.
	Action     activity.Action
	IP         string
	Email      string // of a failed login
	Attempts   int64  // failed logins the event stands for (coalesced floods)
	Rows       int64  // rows of an export
	EntityType string
	Summary    string

	// Change-log entries.
	InventoryAction inventory.Action
	Change          inventory.Quantity
	LevelBefore     inventory.Quantity
}

// ItemFromEvent reduces an activity event to what the rules read.
func ItemFromEvent(ev activity.Event, seq int64) Item {
	it := Item{Log: logActivity, EntryID: ev.ID, Seq: seq, At: ev.OccurredAt, ActorKind: ev.ActorKind, ActorID: ev.ActorID,
		ActorName: ev.ActorName, Action: ev.Action, IP: ev.IP, EntityType: ev.EntityType, Attempts: 1}
	it.Summary = ev.Description
	if it.Summary == "" {
		it.Summary = strings.ToLower(strings.ReplaceAll(string(ev.Action), "_", " ")) + " " + ev.EntityType
	}
	if ev.ActorKind != "anonymous" && ev.ActorKind != "" {
		it.Summary = partyLabel(ev.ActorKind, ev.ActorName) + ": " + it.Summary
	} else if it.Summary != "" {
		it.Summary = strings.ToUpper(it.Summary[:1]) + it.Summary[1:]
	}
	if ev.IP != "" {
		it.Summary += " (from " + ev.IP + ")"
	}
	var fields struct {
		Email    string          `json:"email"`
		Attempts int64           `json:"attempts"`
		LastAt   string          `json:"last_at"`
		Rows     json.RawMessage `json:"rows"`
		Entries  json.RawMessage `json:"entries"`
	}
	if raw, ok := ev.New.(json.RawMessage); ok && len(raw) > 0 {
		_ = json.Unmarshal(raw, &fields) // an event of another shape simply has none of these
	}
	it.Email = strings.ToLower(strings.TrimSpace(fields.Email))
	if it.Email == "" && ev.Action == activity.LoginFailed {
		it.Email = strings.ToLower(strings.TrimSpace(ev.ActorName))
	}
	if fields.Attempts > 1 {
		it.Attempts = fields.Attempts
	}
	// A coalesced flood is recorded when its window closes; its last attempt
	// is what the burst's window is measured from.
	if t, err := time.Parse(time.RFC3339Nano, fields.LastAt); err == nil && fields.LastAt != "" {
		it.At = t
	}
	for _, raw := range []json.RawMessage{fields.Rows, fields.Entries} {
		var n int64
		if len(raw) > 0 && json.Unmarshal(raw, &n) == nil && n > it.Rows {
			it.Rows = n
		}
	}
	return it
}

// ItemFromEntry reduces a change-log entry to what the rules read.
func ItemFromEntry(e inventory.Entry, seq int64) Item {
	it := Item{Log: logInventory, EntryID: e.ID, Seq: seq, At: e.RecordedAt, ActorKind: e.ActorKind, ActorID: e.ActorID,
		ActorName: e.ActorName, InventoryAction: e.Action, Change: e.Change, LevelBefore: e.RecordLevel - e.Change, Attempts: 1}
	verb := "changed"
	switch e.Action {
	case inventory.UserCorrection:
		verb = "corrected"
	case inventory.Scan:
		verb = "counted"
	case inventory.DeleteRecordAction:
		verb = "removed"
	}
	lot := ""
	if e.Lot != "" {
		lot = " lot " + e.Lot
	}
	it.Summary = fmt.Sprintf("%s %s%s at %s by %s %s (level %s → %s %s)", e.SKU, verb, lot, e.LocationPath, sign(e.ChangeText()),
		e.Unit, it.LevelBefore.Format(e.Scale), e.RecordLevelText(), e.Unit)
	return it
}

func sign(s string) string {
	if strings.HasPrefix(s, "-") {
		return s
	}
	return "+" + s
}

// partyKey and partyName group by who did it.
func (it Item) partyKey() string {
	return fmt.Sprintf("%s:%d:%s", it.ActorKind, it.ActorID, it.ActorName)
}
func (it Item) partyName() string { return partyLabel(it.ActorKind, it.ActorName) }

func partyLabel(kind, name string) string {
	switch kind {
	case "api_key":
		return "API key " + name
	case "station":
		return "station " + name
	}
	return name
}

// afterHoursActions are what counts as access: a person or key signing in,
// reading, exporting or changing something. Failed logins have their own
// rule; logouts and expiries are not access; alert events would feed back
// into the rules that raised them.
var afterHoursActions = []activity.Action{activity.Login, activity.Create, activity.Update, activity.Delete, activity.Read,
	activity.Export, activity.PasswordChange, activity.RoleChange, activity.Revoke, activity.APICall}

// correctionActions are the change-log action types that set a level
// rather than move stock: corrections (adjustments, counts, bulk updates)
// and direct edits or removals of a record.
var correctionActions = []inventory.Action{inventory.UserCorrection, inventory.UpdateRecordAction, inventory.DeleteRecordAction}

// match is how an item counts towards a rule.
type match struct {
	key, subject string
	weight       int64
	// immediate fires the rule on this item alone.
	immediate bool
}

// matchItem reports whether it counts towards rule r and how.
func matchItem(r Rule, settings workspace.Settings, it Item) (match, bool) {
	if it.Log != r.Kind.Log() {
		return match{}, false
	}
	t := r.Thresholds
	switch r.Kind {
	case FailedLogins:
		if it.Action != activity.LoginFailed {
			return match{}, false
		}
		if t.Per == PerAddress {
			ip := it.IP
			if ip == "" {
				ip = "an unknown address"
			}
			return match{key: "ip:" + it.IP, subject: ip, weight: it.Attempts}, true
		}
		return match{key: "account:" + it.Email, subject: it.Email, weight: it.Attempts}, true
	case AfterHoursAccess:
		if (it.ActorKind != "user" && it.ActorKind != "api_key") || !slices.Contains(afterHoursActions, it.Action) ||
			settings.WithinBusinessHours(it.At) {
			return match{}, false
		}
		return match{key: it.partyKey(), subject: it.partyName(), weight: 1}, true
	case BulkExport:
		if it.Action != activity.Export || it.ActorKind == "system" {
			return match{}, false
		}
		return match{key: it.partyKey(), subject: it.partyName(), weight: 1,
			immediate: t.RowsAbove > 0 && it.Rows > t.RowsAbove}, true
	case LargeCorrection:
		if !slices.Contains(correctionActions, it.InventoryAction) || !largeChange(t, it) {
			return match{}, false
		}
		return match{key: it.partyKey(), subject: it.partyName(), weight: 1, immediate: true}, true
	case AfterHoursStockChange:
		if it.ActorKind == "system" || settings.WithinBusinessHours(it.At) {
			return match{}, false
		}
		return match{key: it.partyKey(), subject: it.partyName(), weight: 1}, true
	}
	return match{}, false
}

// largeChange reports whether an entry's change exceeds either threshold.
// A change from nothing has no percentage; only the quantity applies.
func largeChange(t Thresholds, it Item) bool {
	change := it.Change
	if change < 0 {
		change = -change
	}
	if t.QuantityAbove != "" {
		if q, err := inventory.ParseQuantity(t.QuantityAbove, inventory.QuantityScale); err == nil && change > q {
			return true
		}
	}
	if t.PercentAbove > 0 && it.LevelBefore > 0 {
		// change/before > p/100, in integers: change*100 > p*before (big
		// levels are compared as fractions to stay clear of overflow).
		before := it.LevelBefore
		if before < 1<<40 && change < 1<<40 {
			return int64(change)*100 > int64(t.PercentAbove)*int64(before)
		}
		return float64(change)*100 > float64(t.PercentAbove)*float64(before)
	}
	return false
}

// fires reports whether the weight counted within the window fires r.
func (r Rule) fires(weight int64) bool {
	t := r.Thresholds
	switch r.Kind {
	case FailedLogins:
		return weight >= int64(t.Attempts)
	case AfterHoursAccess, AfterHoursStockChange:
		return weight >= int64(t.Actions)
	case BulkExport:
		return t.ExportsAbove > 0 && weight > int64(t.ExportsAbove)
	}
	return false
}

// Evidence is one log entry behind an alert.
type Evidence struct {
	Log        string    `json:"log"`
	EntryID    int64     `json:"entry_id"`
	Seq        int64     `json:"seq"`
	OccurredAt time.Time `json:"occurred_at"`
	Weight     int64     `json:"weight"`
	Summary    string    `json:"summary"`
}

// ruleKey names one rule's group (an account, an address, a party).
type ruleKey struct {
	rule int64
	key  string
}

// pending is an entry counted towards a rule that has not fired yet.
type pending struct {
	Evidence
	subject string
}

// Burst is an alert as the evaluation sees it: open, for one rule and key,
// with the evidence this evaluation added.
type Burst struct {
	ID       int64 // 0 until written
	Rule     Rule
	Key      string
	Subject  string
	FirstAt  time.Time
	LastAt   time.Time
	Weight   int64
	Count    int
	Added    []Evidence
	isRaised bool
}

// Raised reports whether this evaluation raised the alert (rather than
// adding evidence to one already open).
func (b *Burst) Raised() bool { return b.isRaised }

// State is what the evaluation remembers between entries: the entries
// counted towards each rule and key, and the latest open alert of each.
type State struct {
	pending map[ruleKey][]pending
	open    map[ruleKey]*Burst
	// dirty are the groups whose pending entries changed.
	dirty map[ruleKey]bool
	// stored are the pending entries as loaded, so that only the
	// difference is written back.
	stored map[ruleKey]map[entryRef]bool
}

// entryRef names one log entry.
type entryRef struct {
	log string
	id  int64
}

// NewState returns an empty state.
func NewState() *State {
	return &State{pending: map[ruleKey][]pending{}, open: map[ruleKey]*Burst{}, dirty: map[ruleKey]bool{},
		stored: map[ruleKey]map[entryRef]bool{}}
}

// Evaluate runs the items, in sequence order, through the enabled rules and
// returns the alerts raised or joined, in the order they were first touched.
// A matching item joins the latest open alert of its rule and key when it
// comes within the rule's window of that alert's last evidence (the burst
// goes on); otherwise it is counted, with the entries of the last window,
// towards the rule's threshold, and raises a new alert with all of them as
// its evidence when the threshold is reached.
func Evaluate(rules []Rule, settings workspace.Settings, st *State, items []Item) []*Burst {
	var touched []*Burst
	seen := map[*Burst]bool{}
	touch := func(b *Burst) {
		if !seen[b] {
			seen[b] = true
			touched = append(touched, b)
		}
	}
	for _, it := range items {
		for _, r := range rules {
			if !r.Enabled {
				continue
			}
			m, ok := matchItem(r, settings, it)
			if !ok {
				continue
			}
			k := ruleKey{r.ID, m.key}
			ev := Evidence{Log: it.Log, EntryID: it.EntryID, Seq: it.Seq, OccurredAt: it.At, Weight: m.weight, Summary: it.Summary}
			if b := st.open[k]; b != nil && it.At.Sub(b.LastAt) <= r.window() {
				b.add(ev)
				touch(b)
				continue
			}
			// Count towards the threshold with what came within the window.
			cutoff := it.At.Add(-r.window())
			kept := st.pending[k][:0:0]
			var weight int64
			for _, p := range st.pending[k] {
				if !p.OccurredAt.Before(cutoff) {
					kept = append(kept, p)
					weight += p.Weight
				}
			}
			kept = append(kept, pending{Evidence: ev, subject: m.subject})
			weight += m.weight
			st.dirty[k] = true
			if !m.immediate && !r.fires(weight) {
				st.pending[k] = kept
				continue
			}
			delete(st.pending, k)
			b := &Burst{Rule: r, Key: m.key, Subject: m.subject, FirstAt: kept[0].OccurredAt, LastAt: kept[0].OccurredAt, isRaised: true}
			for _, p := range kept {
				b.add(p.Evidence)
			}
			st.open[k] = b
			touch(b)
		}
	}
	return touched
}

func (b *Burst) add(ev Evidence) {
	b.Added = append(b.Added, ev)
	b.Weight += ev.Weight
	b.Count++
	if ev.OccurredAt.Before(b.FirstAt) {
		b.FirstAt = ev.OccurredAt
	}
	if ev.OccurredAt.After(b.LastAt) {
		b.LastAt = ev.OccurredAt
	}
}

// prune forgets pending entries older than each rule's window before now,
// and those of rules switched off or gone.
func (st *State) prune(rules []Rule, now time.Time) {
	byID := map[int64]Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	for k, list := range st.pending {
		r, ok := byID[k.rule]
		cutoff := now.Add(-r.window())
		kept := list[:0:0]
		for _, p := range list {
			if ok && r.Enabled && !p.OccurredAt.Before(cutoff) {
				kept = append(kept, p)
			}
		}
		if len(kept) != len(list) {
			st.dirty[k] = true
		}
		if len(kept) == 0 {
			delete(st.pending, k)
		} else {
			st.pending[k] = kept
		}
	}
}
