// Package eventfeed reads the live feed of a workspace: its sealed activity
// events and change-log entries, in the order of the ledger's sealed
// sequence (ledger.Since), each loaded with its own log's permission and
// left out when the caller may not read it. The API serves it as
// Server-Sent Events (GET /api/v1/events/stream); a feed resumes after the
// last sequence number its client saw, with no gap and no duplicate.
package eventfeed

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Stream names one of the feed's streams; it is the SSE event type.
type Stream string

const (
	// Activity is the activity log (needs actor.ViewActivity).
	Activity Stream = "activity"
	// Inventory is the inventory change log (needs actor.ViewInventory).
	Inventory Stream = "inventory"
)

// Streams lists the streams in the order the parameter documents them.
func Streams() []Stream { return []Stream{Activity, Inventory} }

func (s Stream) permission() actor.Permission {
	if s == Activity {
		return actor.ViewActivity
	}
	return actor.ViewInventory
}

// Filter is what a client asked for.
type Filter struct {
	// Streams to deliver; never empty after ParseFilter.
	Streams []Stream
	// Categories, when set, keeps only activity events of these categories
	// (change-log entries have no category and are not affected).
	Categories []activity.Category
}

// ParseFilter reads ?stream= and ?category= (comma-separated lists) for
// the actor in ctx. Without stream, the feed carries every stream the actor
// may read; naming a stream it may not read is refused, so a client is not
// left waiting for events that can never come.
func ParseFilter(ctx context.Context, q url.Values) (Filter, error) {
	who, err := actor.Current(ctx)
	if err != nil {
		return Filter{}, err
	}
	var f Filter
	for _, s := range list(q, "stream") {
		st := Stream(s)
		if !slices.Contains(Streams(), st) {
			return Filter{}, malformed("stream", fmt.Sprintf("%q is not a stream: use activity, inventory or both", s))
		}
		if !who.Can(st.permission()) {
			return Filter{}, fault.New(fault.Forbidden, "your role (%s) may not read the %s stream", who.Role, st)
		}
		if !slices.Contains(f.Streams, st) {
			f.Streams = append(f.Streams, st)
		}
	}
	if len(f.Streams) == 0 {
		for _, st := range Streams() {
			if who.Can(st.permission()) {
				f.Streams = append(f.Streams, st)
			}
		}
		if len(f.Streams) == 0 {
			return Filter{}, fault.New(fault.Forbidden, "your role (%s) may read neither the activity log nor the change log", who.Role)
		}
	}
	for _, c := range list(q, "category") {
		cat := activity.Category(c)
		if !slices.Contains(activity.Categories(), cat) {
			names := make([]string, 0, len(activity.Categories()))
			for _, k := range activity.Categories() {
				names = append(names, string(k))
			}
			return Filter{}, malformed("category", fmt.Sprintf("%q is not a category: use one of %s", c, strings.Join(names, ", ")))
		}
		f.Categories = append(f.Categories, cat)
	}
	if len(f.Categories) > 0 && !slices.Contains(f.Streams, Activity) {
		return Filter{}, malformed("category", "filters activity events, and the activity stream is not asked for")
	}
	return f, nil
}

func list(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func malformed(field, message string) error {
	return &fault.Error{Kind: fault.Malformed, Message: "invalid " + field + ": " + message, Fields: map[string]string{field: message}}
}

// Item is one entry of the feed: an activity event or a change-log entry.
type Item struct {
	Seq    int64
	Stream Stream
	Event  activity.Event  // when Stream is Activity
	Entry  inventory.Entry // when Stream is Inventory
}

// Page is what one read of the feed found.
type Page struct {
	Items []Item
	// Last is the sequence number read up to (including entries left out
	// by the filter or permissions): the next read starts after it.
	Last int64
	// Full reports that the read stopped at its limit: more are waiting.
	Full bool
}

// Read returns the feed's items after sequence number after (-1 for the
// start), reading at most limit sealed entries. Each log's entries are
// loaded in one query with that log's permission.
func Read(ctx context.Context, r store.Reader, f Filter, after int64, limit int) (Page, error) {
	sealed, err := ledger.Since(ctx, r, after, limit)
	if err != nil {
		return Page{}, err
	}
	p := Page{Last: after, Full: len(sealed) == limit}
	if len(sealed) == 0 {
		return p, nil
	}
	p.Last = sealed[len(sealed)-1].Seq
	var eventIDs, entryIDs []int64
	for _, s := range sealed {
		switch {
		case s.Log == ledger.ActivityEvents && slices.Contains(f.Streams, Activity):
			eventIDs = append(eventIDs, s.EntryID)
		case s.Log == ledger.InventoryLog && slices.Contains(f.Streams, Inventory):
			entryIDs = append(entryIDs, s.EntryID)
		}
	}
	events := map[int64]activity.Event{}
	if len(eventIDs) > 0 {
		list, err := activity.EventsByID(ctx, r, eventIDs)
		if err != nil {
			return Page{}, err
		}
		for _, ev := range list {
			if len(f.Categories) == 0 || slices.Contains(f.Categories, ev.Category) {
				events[ev.ID] = ev
			}
		}
	}
	entries := map[int64]inventory.Entry{}
	if len(entryIDs) > 0 {
		list, err := inventory.EntriesByID(ctx, r, entryIDs)
		if err != nil {
			return Page{}, err
		}
		for _, e := range list {
			entries[e.ID] = e
		}
	}
	for _, s := range sealed {
		switch s.Log {
		case ledger.ActivityEvents:
			if ev, ok := events[s.EntryID]; ok {
				p.Items = append(p.Items, Item{Seq: s.Seq, Stream: Activity, Event: ev})
			}
		case ledger.InventoryLog:
			if e, ok := entries[s.EntryID]; ok {
				p.Items = append(p.Items, Item{Seq: s.Seq, Stream: Inventory, Entry: e})
			}
		}
	}
	return p, nil
}

// Start is where a new feed without a resume point begins: after the last
// sealed entry, so it carries what happens from now on.
func Start(ctx context.Context, r store.Reader) (int64, error) {
	return ledger.Head(ctx, r)
}
