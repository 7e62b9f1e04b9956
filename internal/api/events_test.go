package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// feedEnv is a server with a fast live feed, an API key per role and a
// sealer, over a workspace with an item and a location.
type feedEnv struct {
	t        *testing.T
	f        *storetest.Fixture
	db       *store.DB
	url      string
	keys     map[actor.Role]string
	sealer   *ledger.Sealer
	shutdown chan struct{}
}

func newFeedEnv(t *testing.T, db *store.DB) *feedEnv {
	t.Helper()
	return newFeedEnvLasting(t, db, time.Minute)
}

// newFeedEnvLasting is newFeedEnv whose feeds last the given time.
func newFeedEnvLasting(t *testing.T, db *store.DB, lifetime time.Duration) *feedEnv {
	t.Helper()
	f := storetest.NewFixture(t, db)
	e := &feedEnv{t: t, f: f, db: db, keys: map[actor.Role]string{}, sealer: ledgertest.NewSealer(t, db), shutdown: make(chan struct{})}
	for _, role := range actor.Roles() {
		k, err := f.Auth.CreateAPIKey(f.Ctx, string(role)+"-key", role)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[role] = k.Secret
	}
	srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Shutdown: e.shutdown,
		StreamPoll: 20 * time.Millisecond, StreamHeartbeat: 300 * time.Millisecond, StreamLifetime: lifetime}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	two := 2
	if _, err := inventory.CreateItem(f.Ctx, db, inventory.ItemInput{SKU: "OIL-5", Name: "Engine oil", Kind: inventory.Material, Unit: "l", Scale: &two}); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.CreateLocation(f.Ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"}); err != nil {
		t.Fatal(err)
	}
	ledgertest.SealAll(t, e.sealer)
	return e
}

func (e *feedEnv) receive(qty string) {
	e.t.Helper()
	if _, err := inventory.Receive(e.f.Ctx, e.db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
		LocationRef: inventory.LocationRef{Location: "WH1"}, Quantity: inventory.DecimalText(qty)}); err != nil {
		e.t.Fatal(err)
	}
}

// mark records a configuration event whose description is text.
func (e *feedEnv) mark(text string) {
	e.t.Helper()
	if err := activity.RecordNow(e.f.Ctx, e.db, activity.Event{Action: activity.Update, Category: activity.Configuration,
		EntityType: "workspaces", EntityID: "1", Description: text}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *feedEnv) seal() { e.t.Helper(); ledgertest.SealAll(e.t, e.sealer) }

// sse is one event of the feed as a client parses it.
type sse struct {
	ID      int64
	Event   string
	Data    map[string]any
	Comment string
}

// feedClient is an open feed, read by a goroutine into events.
type feedClient struct {
	t      *testing.T
	res    *http.Response
	cancel context.CancelFunc
	events chan sse
	ended  chan struct{}
}

func (e *feedEnv) open(role actor.Role, query string, headers ...string) *feedClient {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/v1/events/stream"+query, nil)
	req.Header.Set("Authorization", "Bearer "+e.keys[role])
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		e.t.Fatalf("feed answered %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), raw)
	}
	c := &feedClient{t: e.t, res: res, cancel: cancel, events: make(chan sse, 1000), ended: make(chan struct{})}
	go c.read()
	e.t.Cleanup(c.close)
	return c
}

func (c *feedClient) read() {
	defer close(c.ended)
	sc := bufio.NewScanner(c.res.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var cur sse
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.Event != "" || cur.Comment != "" {
				c.events <- cur
			}
			cur = sse{}
		case strings.HasPrefix(line, ":"):
			cur.Comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "id: "):
			cur.ID, _ = strconv.ParseInt(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			cur.Event = line[7:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &cur.Data); err != nil {
				c.t.Errorf("data is not JSON: %q", line)
			}
		}
	}
}

func (c *feedClient) close() { c.cancel(); c.res.Body.Close(); <-c.ended }

// until collects events (not comments) until one satisfies stop.
func (c *feedClient) until(stop func(sse) bool) []sse {
	c.t.Helper()
	var got []sse
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-c.events:
			if ev.Event == "" {
				continue
			}
			got = append(got, ev)
			if stop(ev) {
				return got
			}
		case <-c.ended:
			c.t.Fatalf("feed ended after %d events", len(got))
		case <-timeout:
			c.t.Fatalf("timed out after %d events: %+v", len(got), got)
		}
	}
}

func describes(text string) func(sse) bool {
	return func(ev sse) bool { return ev.Event == "activity" && ev.Data["description"] == text }
}

func TestEventStreamResumesWithoutGapOrDuplicate(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newFeedEnv(t, db)
		head, err := ledger.Head(e.f.Ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		c := e.open(actor.Admin, "")
		// Events arrive as they are written (and sealed).
		e.receive("1")
		e.mark("first")
		e.seal()
		first := c.until(describes("first"))
		c.close()
		// The admin reads both logs, so every sealed entry comes, in order.
		for i, ev := range first {
			if ev.ID != head+1+int64(i) {
				t.Fatalf("event %d has id %d, want %d: %+v", i, ev.ID, head+1+int64(i), first)
			}
			if ev.Data["sequence"] != float64(ev.ID) {
				t.Fatalf("data sequence %v for id %d", ev.Data["sequence"], ev.ID)
			}
		}
		var sawReceipt bool
		for _, ev := range first {
			if ev.Event == "inventory" && ev.Data["sku"] == "OIL-5" && ev.Data["action"] != nil {
				sawReceipt = true
			}
		}
		if !sawReceipt {
			t.Fatalf("no change-log entry for the receipt: %+v", first)
		}
		last := first[len(first)-1].ID

		// Missed while disconnected.
		e.receive("2")
		e.mark("second")
		e.seal()
		c2 := e.open(actor.Admin, "", "Last-Event-ID", strconv.FormatInt(last, 10))
		second := c2.until(describes("second"))
		c2.close()
		for i, ev := range second {
			if ev.ID != last+1+int64(i) {
				t.Fatalf("resumed event %d has id %d, want %d (no gap, no duplicate): %+v", i, ev.ID, last+1+int64(i), second)
			}
		}
		receipts := 0
		for _, ev := range second {
			if ev.Event == "inventory" {
				receipts++
			}
		}
		if receipts != 1 {
			t.Fatalf("resumed feed has %d change-log entries, want the one missed: %+v", receipts, second)
		}
		// ?after= does the same for clients that cannot set headers.
		c3 := e.open(actor.Admin, "?after="+strconv.FormatInt(last, 10))
		if again := c3.until(describes("second")); again[0].ID != last+1 || len(again) != len(second) {
			t.Fatalf("?after= gave %+v, want %+v", again, second)
		}
	})
}

func TestEventStreamShowsOnlyWhatTheRoleMayRead(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newFeedEnv(t, db)
		// An operator may read the change log and not the activity log.
		op := e.open(actor.Operator, "")
		// An admin asking for configuration events only.
		cfg := e.open(actor.Admin, "?stream=activity&category=configuration")
		e.mark("config change")
		e.receive("3")
		e.seal()
		got := op.until(func(ev sse) bool { return ev.Event == "inventory" })
		for _, ev := range got {
			if ev.Event != "inventory" {
				t.Fatalf("operator received %+v", ev)
			}
		}
		// The marker was sealed before the receipt: had it been sent, it
		// would have come first. And nothing else comes later.
		e.mark("later")
		e.seal()
		cfgGot := cfg.until(describes("later"))
		for _, ev := range cfgGot {
			if ev.Event != "activity" || ev.Data["category"] != "configuration" {
				t.Fatalf("category filter let through %+v", ev)
			}
		}
		if len(cfgGot) != 2 || cfgGot[0].Data["description"] != "config change" {
			t.Fatalf("configuration feed: %+v", cfgGot)
		}
		select {
		case ev := <-op.events:
			if ev.Event == "activity" {
				t.Fatalf("operator received an activity event: %+v", ev)
			}
		case <-time.After(200 * time.Millisecond):
		}
	})
}

func TestEventStreamHeartbeatAndShutdown(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newFeedEnvLasting(t, db, 3*time.Second)
		c := e.open(actor.Auditor, "")
		deadline := time.After(5 * time.Second)
		for beat := false; !beat; {
			select {
			case ev := <-c.events:
				beat = ev.Comment == "keep-alive"
			case <-deadline:
				t.Fatal("no keep-alive comment on a quiet feed")
			}
		}
		// A connection lasts a while, then asks the client to come back
		// (and so to authenticate again).
		start := time.Now()
		select {
		case <-c.ended:
			if d := time.Since(start); d > 4*time.Second {
				t.Fatalf("the feed outlived its lifetime: %v", d)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the feed did not end at its lifetime")
		}
		c2 := e.open(actor.Auditor, "")
		close(e.shutdown)
		select {
		case <-c2.ended:
		case <-time.After(2 * time.Second):
			t.Fatal("the feed did not end on shutdown")
		}
	})
}

func TestEventStreamBadInput(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		e := newFeedEnv(t, db)
		cases := []struct {
			role          actor.Role
			query, header string
			status        int
			field         string
		}{
			{actor.Admin, "?after=abc", "", 400, "after"},
			{actor.Admin, "?after=-2", "", 400, "after"},
			{actor.Admin, "?after=99999", "", 400, "after"},
			{actor.Admin, "", "x1", 400, "Last-Event-ID"},
			{actor.Admin, "?stream=alerts", "", 400, "stream"},
			{actor.Admin, "?category=nonsense", "", 400, "category"},
			{actor.Admin, "?stream=inventory&category=audit", "", 400, "category"},
			{actor.Admin, "?since=3", "", 400, "since"},
			{actor.Operator, "?stream=activity", "", 403, ""},
			{"", "", "", 401, ""},
		}
		for _, c := range cases {
			req, _ := http.NewRequest("GET", e.url+"/api/v1/events/stream"+c.query, nil)
			if c.role != "" {
				req.Header.Set("Authorization", "Bearer "+e.keys[c.role])
			}
			if c.header != "" {
				req.Header.Set("Last-Event-ID", c.header)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var p struct {
				Status int               `json:"status"`
				Errors map[string]string `json:"errors"`
			}
			if res.StatusCode != c.status || res.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(raw, &p) != nil {
				t.Errorf("%s %q %q: %d %s %s", c.role, c.query, c.header, res.StatusCode, res.Header.Get("Content-Type"), raw)
				continue
			}
			if c.field != "" && p.Errors[c.field] == "" {
				t.Errorf("%q %q: problem does not name %s: %s", c.query, c.header, c.field, raw)
			}
		}
		// -1 is the start of the sequence: the whole history.
		c := e.open(actor.Admin, "?after=-1")
		if got := c.until(func(sse) bool { return true }); got[0].ID != 0 {
			t.Fatalf("after=-1 starts at %d", got[0].ID)
		}
	})
}
