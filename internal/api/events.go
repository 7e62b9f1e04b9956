package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/eventfeed"
	"github.com/stocktrail/stocktrail/internal/fault"
)

// The live feed's pace. Polling the sealed sequence is what works the same
// on one node and on several (the entries are sealed on whichever node
// holds the sealer's election).
const (
	defaultStreamPoll      = 300 * time.Millisecond
	defaultStreamHeartbeat = 15 * time.Second
	// streamBatch caps the sealed entries read (and held) per poll: a
	// client's memory is bounded by it, however far behind it resumes.
	streamBatch = 200
	// streamWriteTimeout ends a feed whose client stopped reading.
	streamWriteTimeout = 30 * time.Second
	// defaultStreamLifetime ends each connection after a while: the client
	// reconnects with Last-Event-ID and missing nothing, and its credential
	// is checked again, so a revoked key or a changed role stops reading
	// within this time.
	defaultStreamLifetime = 5 * time.Minute
)

func (a *API) registerEvents(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v1/events/stream", a.eventStream)
}

var eventStreamParams = map[string]bool{"stream": true, "category": true, "after": true}

// eventStream serves the live feed as Server-Sent Events, framed by hand
// on net/http's Flusher (the format is three lines per event; no
// maintained SSE library for net/http is served to us).
func (a *API) eventStream(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	for name := range q {
		if !eventStreamParams[name] {
			return &fault.Error{Kind: fault.Malformed, Message: fmt.Sprintf("unknown parameter %q (use stream, category, after)", name),
				Fields: map[string]string{name: "unknown parameter"}}
		}
	}
	f, err := eventfeed.ParseFilter(ctx, q)
	if err != nil {
		return err
	}
	head, err := eventfeed.Start(ctx, a.cfg.DB)
	if err != nil {
		return err
	}
	after, resumed, err := resumePoint(r, head)
	if err != nil {
		return err
	}
	if !resumed {
		after = head
	}
	var names []string
	for _, s := range f.Streams {
		names = append(names, string(s))
	}
	for _, s := range f.Streams {
		if s == eventfeed.Activity {
			// Watching the activity log is reading it: one event per
			// connection (per event would feed the feed with itself).
			err := activity.RecordNow(ctx, a.cfg.DB, activity.Event{Action: activity.Read, Category: activity.Audit,
				EntityType: "activity_events", New: map[string]any{"streams": names, "after": after},
				Description: fmt.Sprintf("opened the live event feed (%s) after #%d", strings.Join(names, ", "), after)})
			if err != nil {
				return err
			}
		}
	}

	rc := http.NewResponseController(w)
	// A kept-alive connection must not carry this feed's deadline on.
	defer rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on as they come
	w.WriteHeader(http.StatusOK)
	out := bufio.NewWriterSize(w, 16<<10)
	flush := func() error {
		rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)) // not every writer has deadlines; bounded anyway by the client
		if err := out.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	fmt.Fprintf(out, "retry: 2000\n: stocktrail live feed (%s) after #%d\n\n", strings.Join(names, ", "), after)
	if err := flush(); err != nil {
		return nil
	}

	poll, beat := a.cfg.StreamPoll, a.cfg.StreamHeartbeat
	if poll <= 0 {
		poll = defaultStreamPoll
	}
	if beat <= 0 {
		beat = defaultStreamHeartbeat
	}
	lifetime := a.cfg.StreamLifetime
	if lifetime <= 0 {
		lifetime = defaultStreamLifetime
	}
	end := time.NewTimer(lifetime)
	defer end.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	lastWrite := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.cfg.Shutdown:
			// The client reconnects (to this node once it is back, or to
			// another) with Last-Event-ID and misses nothing.
			out.WriteString(": server shutting down; reconnect with Last-Event-ID\n\n")
			flush()
			return nil
		case <-end.C:
			out.WriteString(": connection lifetime reached; reconnect with Last-Event-ID\n\n")
			flush()
			return nil
		case <-timer.C:
		}
		page, err := eventfeed.Read(ctx, a.cfg.DB, f, after, streamBatch)
		if err != nil {
			if ctx.Err() == nil {
				a.cfg.Logger.ErrorContext(ctx, "live feed read", "err", err, "after", after)
				out.WriteString(": read failed; reconnect with Last-Event-ID\n\n")
				flush()
			}
			return nil
		}
		for _, it := range page.Items {
			if err := writeFeedItem(out, it); err != nil {
				return nil
			}
		}
		after = page.Last
		switch {
		case len(page.Items) > 0:
			if err := flush(); err != nil {
				return nil
			}
			lastWrite = time.Now()
		case time.Since(lastWrite) >= beat:
			// A comment keeps proxies from closing a quiet connection.
			out.WriteString(": keep-alive\n\n")
			if err := flush(); err != nil {
				return nil
			}
			lastWrite = time.Now()
		}
		if page.Full {
			timer.Reset(0)
		} else {
			timer.Reset(poll)
		}
	}
}

// resumePoint reads Last-Event-ID (sent by a reconnecting EventSource) or
// ?after= (for clients that cannot set headers): the last sequence number
// the client has, -1 for the start of the sequence. It cannot be past head,
// the last sealed one.
func resumePoint(r *http.Request, head int64) (int64, bool, error) {
	name, raw := "Last-Event-ID", strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	if raw == "" {
		name, raw = "after", strings.TrimSpace(r.URL.Query().Get("after"))
	}
	if raw == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < -1 {
		const rule = "must be a sequence number from an earlier event's id (a whole number; -1 for the start)"
		return 0, false, &fault.Error{Kind: fault.Malformed, Message: name + " " + rule, Fields: map[string]string{name: rule}}
	}
	if n > head {
		rule := fmt.Sprintf("is past the last sealed sequence number (%d): it does not come from this workspace's feed", head)
		return 0, false, &fault.Error{Kind: fault.Malformed, Message: name + " " + rule, Fields: map[string]string{name: rule}}
	}
	return n, true, nil
}

// feedEvent is an activity event as the audit-log API shows it, with its
// place in the sealed sequence.
type feedEvent struct {
	auditLogEntry
	Sequence int64 `json:"sequence"`
}

// feedEntry is a change-log entry as the change-log API shows it.
type feedEntry struct {
	sequencedEntry
}

func writeFeedItem(out *bufio.Writer, it eventfeed.Item) error {
	var v any
	switch it.Stream {
	case eventfeed.Activity:
		v = feedEvent{auditLogEntry: entryOf(it.Event), Sequence: it.Seq}
	default:
		seq := it.Seq
		v = feedEntry{sequencedEntry{Entry: it.Entry, Sequence: &seq}}
	}
	data, err := json.Marshal(v) // one line: JSON strings escape newlines
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "id: %d\nevent: %s\ndata: %s\n\n", it.Seq, it.Stream, data)
	return nil
}
