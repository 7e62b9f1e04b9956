package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/notify"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// world is a workspace with a sealer and a started webhook service whose
// retries are quick.
type world struct {
	f      *storetest.Fixture
	db     *store.DB
	sealer *ledger.Sealer
	wh     *notify.Webhooks
}

func newWorld(t *testing.T, db *store.DB, opts notify.Options) *world {
	t.Helper()
	opts.Policy.AllowPrivate = true // the receivers listen on 127.0.0.1
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.RetryBase == 0 {
		opts.RetryBase, opts.RetryCap = 100*time.Millisecond, 400*time.Millisecond
	}
	opts.PollInterval = 100 * time.Millisecond
	w := &world{f: storetest.NewFixture(t, db), db: db, sealer: ledgertest.NewSealer(t, db)}
	wh, err := notify.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	w.wh = wh
	ctx, cancel := context.WithCancel(context.Background())
	if err := wh.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		wh.Stop(stop)
		cancel()
	})
	// The consumer starts at the end of the sequence: everything from here on.
	w.pump(t)
	return w
}

// pump seals what is pending and fans it out, as the serve jobs do.
func (w *world) pump(t *testing.T) {
	t.Helper()
	ledgertest.SealAll(t, w.sealer)
	if _, err := w.wh.Fanout(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (w *world) event(t *testing.T, action activity.Action, category activity.Category, entity string) {
	t.Helper()
	if err := activity.RecordNow(w.f.Ctx, w.db, activity.Event{Action: action, Category: category, EntityType: entity, EntityID: "7",
		Description: "test " + string(action), New: map[string]any{"n": 1}}); err != nil {
		t.Fatal(err)
	}
}

// waitDeliveries waits until the endpoint has n deliveries, none pending.
func (w *world) waitDeliveries(t *testing.T, endpointID int64, n int, within time.Duration) []notify.Delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ds, err := w.wh.ListDeliveries(w.f.Ctx, endpointID, notify.DeliveryFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		settled := len(ds) == n
		for _, d := range ds {
			settled = settled && d.Status != notify.Pending
		}
		if settled {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not settled within %s: %d of %d: %+v", within, len(ds), n, ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// receiver is a webhook receiver that checks every request's signature
// on its own (crypto/hmac here, not the package's Sign) and keeps the
// bodies it accepted by webhook-id.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	// answer decides the status of the nth request (from 1) for an id.
	answer func(id string, n int) int
	seen   map[string]int
	bodies map[string][]byte
	bad    []string
}

func newReceiver(t *testing.T) *receiver {
	return &receiver{t: t, seen: map[string]int{}, bodies: map[string][]byte{}, answer: func(string, int) int { return 200 }}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, ts, sigs := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
	rc.mu.Lock()
	secret := rc.secret
	rc.mu.Unlock()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	at, tsErr := strconv.ParseInt(ts, 10, 64)
	ok := err == nil && tsErr == nil && id != "" && r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/json"
	ok = ok && time.Since(time.Unix(at, 0)).Abs() < 5*time.Minute
	matched := false
	for _, s := range strings.Fields(sigs) {
		matched = matched || hmac.Equal([]byte(s), []byte(want))
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !ok || !matched {
		rc.bad = append(rc.bad, id)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	rc.seen[id]++
	status := rc.answer(id, rc.seen[id])
	if status == 200 {
		rc.bodies[id] = body
	}
	w.WriteHeader(status)
	io.WriteString(w, "answer "+strconv.Itoa(status))
}

func (rc *receiver) accepted() map[string][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range rc.bodies {
		out[k] = v
	}
	if len(rc.bad) > 0 {
		rc.t.Errorf("requests with a bad signature: %v", rc.bad)
	}
	return out
}

func (w *world) endpoint(t *testing.T, url string, rc *receiver, subs ...notify.SubscriptionInput) notify.Endpoint {
	t.Helper()
	e, secret, err := w.wh.CreateEndpoint(w.f.Ctx, notify.EndpointInput{Name: "SIEM", URL: url}, subs)
	if err != nil {
		t.Fatal(err)
	}
	if rc != nil {
		rc.mu.Lock()
		rc.secret = secret
		rc.mu.Unlock()
	}
	return e
}

// TestDeliveriesAreSignedAndMatchTheirSubscriptions: each subscribed
// stream arrives once per endpoint and format, signed, in our envelope or
// as OCSF; entries no subscription asks for are not sent.
func TestDeliveriesAreSignedAndMatchTheirSubscriptions(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, notify.Options{})
		rc := newReceiver(t)
		srv := httptest.NewServer(rc)
		defer srv.Close()
		e := w.endpoint(t, srv.URL+"/hook", rc,
			notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: "authentication", Format: notify.OCSF},
			notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: "configuration", Format: notify.JSON},
			notify.SubscriptionInput{Stream: notify.ChangesStream, Filter: "user_action"},
			notify.SubscriptionInput{Stream: notify.AlertsStream})
		// The endpoint's own creation is a configuration event: delivered.
		w.event(t, activity.Login, activity.Authentication, "users")
		w.event(t, activity.Update, activity.Products, "items") // not subscribed
		w.event(t, "ALERT_RAISED", activity.Audit, "alerts")
		if _, err := inventory.CreateItem(w.f.Ctx, db, inventory.ItemInput{SKU: "OIL-5", Name: "Engine oil", Kind: inventory.Material, Unit: "l"}); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.CreateLocation(w.f.Ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.Receive(w.f.Ctx, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "OIL-5"},
			LocationRef: inventory.LocationRef{Location: "WH1"}, Quantity: "4"}); err != nil {
			t.Fatal(err)
		}
		w.pump(t)
		// The endpoint's creation, the login (OCSF), the alert and the receipt.
		ds := w.waitDeliveries(t, e.ID, 4, 15*time.Second)
		got := rc.accepted()
		types := map[string]int{}
		for _, d := range ds {
			if d.Status != notify.Delivered || d.Attempts != 1 || d.LastStatus != 200 {
				t.Errorf("delivery %+v", d)
			}
			body, ok := got[d.MessageID]
			if !ok {
				t.Errorf("%s not received", d.MessageID)
				continue
			}
			types[d.EventType+"/"+string(d.Format)]++
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if d.Format == notify.OCSF {
				checkOCSF(t, m)
				continue
			}
			if m["type"] != d.EventType || int64(m["sequence"].(float64)) != d.Sequence || m["data"] == nil {
				t.Errorf("envelope %s", body)
			}
		}
		for _, want := range []string{"activity.create/json", "activity.login/ocsf", "alert.raised/json", "change.user_action/json"} {
			if types[want] != 1 {
				t.Errorf("%s delivered %d times; all: %v", want, types[want], types)
			}
		}
		if types["activity.update/json"] != 0 {
			t.Errorf("an unsubscribed event was delivered: %v", types)
		}
		// Each attempt is on record with its answer.
		_, attempts, err := w.wh.GetDelivery(w.f.Ctx, ds[0].EndpointID, ds[0].ID)
		if err != nil || len(attempts) != 1 || attempts[0].StatusCode != 200 || attempts[0].Response != "answer 200" {
			t.Fatalf("attempts %+v, %v", attempts, err)
		}
	})
}

// TestRetriesAfterErrorsThenFailsAndRedelivers: a 500 is retried with
// backoff; after the last attempt the delivery is failed; Redeliver (an
// audited change) sends it again, and every attempt stays on record.
func TestRetriesAfterErrorsThenFailsAndRedelivers(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, notify.Options{MaxAttempts: 3})
		rc := newReceiver(t)
		rc.answer = func(_ string, n int) int {
			if n <= 2 {
				return 500
			}
			return 200
		}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		e := w.endpoint(t, srv.URL, rc, notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: "users"})
		w.event(t, activity.Create, activity.Users, "users")
		w.pump(t)
		ds := w.waitDeliveries(t, e.ID, 1, 15*time.Second)
		if ds[0].Status != notify.Delivered || ds[0].Attempts != 3 {
			t.Fatalf("after two 500s: %+v", ds[0])
		}
		_, attempts, _ := w.wh.GetDelivery(w.f.Ctx, ds[0].EndpointID, ds[0].ID)
		if len(attempts) != 3 || attempts[2].StatusCode != 500 || attempts[1].StatusCode != 500 || attempts[0].StatusCode != 200 ||
			!strings.Contains(attempts[2].Error, "500") {
			t.Fatalf("attempts %+v", attempts)
		}
		// Retries waited: the backoff is at least RetryBase, then twice that.
		if gap := attempts[0].AttemptedAt.Sub(attempts[2].AttemptedAt); gap < 300*time.Millisecond {
			t.Fatalf("three attempts within %s: no backoff", gap)
		}

		// A receiver that keeps failing: failed after MaxAttempts.
		rc.mu.Lock()
		rc.answer = func(string, int) int { return 503 }
		rc.mu.Unlock()
		w.event(t, activity.Delete, activity.Users, "users")
		w.pump(t)
		ds = w.waitDeliveries(t, e.ID, 2, 15*time.Second)
		failed := ds[0]
		if failed.Status != notify.Failed || failed.Attempts != 3 || failed.LastStatus != 503 || failed.LastError == "" {
			t.Fatalf("after three 503s: %+v", failed)
		}
		rc.mu.Lock()
		rc.answer = func(string, int) int { return 200 }
		rc.mu.Unlock()
		if err := w.wh.Redeliver(w.f.Ctx, failed.EndpointID, failed.ID); err != nil {
			t.Fatal(err)
		}
		ds = w.waitDeliveries(t, e.ID, 2, 15*time.Second)
		if ds[0].Status != notify.Delivered || ds[0].Attempts != 4 {
			t.Fatalf("after redelivery: %+v", ds[0])
		}
		if _, ok := rc.accepted()[failed.MessageID]; !ok {
			t.Fatal("redelivered message not received")
		}
		hist, err := activity.ForEntity(w.f.Ctx, db, notify.EntityType, strconv.FormatInt(e.ID, 10), 10)
		if err != nil || len(hist) < 2 || !strings.Contains(hist[0].Description, "Redelivery of "+failed.MessageID) {
			t.Fatalf("redelivery not audited: %+v %v", hist, err)
		}
		// An auditor sees deliveries but may not redeliver.
		auditor := actor.With(context.Background(), actor.Actor{WorkspaceID: w.f.Workspace.ID, Kind: actor.User, ID: 99, Name: "Aud", Role: actor.Auditor})
		if _, err := w.wh.ListDeliveries(auditor, e.ID, notify.DeliveryFilter{}); err != nil {
			t.Fatal(err)
		}
		if err := w.wh.Redeliver(auditor, failed.EndpointID, failed.ID); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("auditor redelivered: %v", err)
		}
	})
}

// TestDeliveryCompletesAfterTheReceiverRestarts: the receiver drops a
// request mid-delivery and goes away; the deliveries are retried and,
// once it is back on the same address, all arrive: nothing lost.
func TestDeliveryCompletesAfterTheReceiverRestarts(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, notify.Options{MaxAttempts: 25})
		rc := newReceiver(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		down := make(chan struct{})
		var once sync.Once
		first := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Header.Get("webhook-id") != "" && strings.Contains(readAll(r), `"users"`) {
				// Crash mid-delivery: drop the connection without answering.
				once.Do(func() { close(down) })
				if hj, ok := rw.(http.Hijacker); ok {
					if conn, _, err := hj.Hijack(); err == nil {
						conn.Close()
					}
				}
				return
			}
			rw.WriteHeader(200)
		})}
		go first.Serve(ln)
		e := w.endpoint(t, "http://"+addr+"/hook", rc, notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: "users"})
		for i := 0; i < 5; i++ {
			w.event(t, activity.Update, activity.Users, "users")
		}
		w.pump(t)
		select {
		case <-down:
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery reached the receiver")
		}
		first.Close() // the receiver is gone: connections are refused
		// Wait until an attempt has failed against the closed address.
		deadline := time.Now().Add(10 * time.Second)
		for refused := false; !refused; {
			ds, _ := w.wh.ListDeliveries(w.f.Ctx, e.ID, notify.DeliveryFilter{})
			for _, d := range ds {
				refused = refused || strings.Contains(d.LastError, "refused")
			}
			if time.Now().After(deadline) {
				t.Fatalf("no refused attempt recorded: %+v", ds)
			}
			time.Sleep(20 * time.Millisecond)
		}
		ln2, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen again on %s: %v", addr, err)
		}
		second := &http.Server{Handler: rc}
		go second.Serve(ln2)
		defer second.Close()
		ds := w.waitDeliveries(t, e.ID, 5, 20*time.Second)
		got := rc.accepted()
		for _, d := range ds {
			if d.Status != notify.Delivered {
				t.Errorf("delivery %+v", d)
			}
			if _, ok := got[d.MessageID]; !ok {
				t.Errorf("%s lost", d.MessageID)
			}
		}
		if len(got) != 5 {
			t.Fatalf("received %d of 5", len(got))
		}
	})
}

func readAll(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// TestAHangingReceiverCostsBoundedTime: an attempt against a receiver that
// never answers ends at the timeout, is recorded as such, and other
// endpoints' deliveries go on meanwhile.
func TestAHangingReceiverCostsBoundedTime(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		const timeout = time.Second
		// Four workers: the hanging endpoint may hold one of them.
		w := newWorld(t, db, notify.Options{Timeout: timeout, MaxAttempts: 1, Workers: 4})
		release := make(chan struct{})
		hanging := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer hanging.Close()
		defer close(release)
		rc := newReceiver(t)
		ok := httptest.NewServer(rc)
		defer ok.Close()
		stuck := w.endpoint(t, hanging.URL, nil, notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: "inventory"})
		fine := w.endpoint(t, ok.URL, rc, notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: "inventory"})
		// More deliveries to the hanging receiver than there are workers.
		const events = 6
		for i := 0; i < events; i++ {
			w.event(t, activity.Update, activity.Inventory, "records")
		}
		started := time.Now()
		w.pump(t)
		// The other endpoint is served meanwhile, long before the hanging
		// one's deliveries have each taken their timeout.
		for _, d := range w.waitDeliveries(t, fine.ID, events, 10*time.Second) {
			if d.Status != notify.Delivered {
				t.Fatalf("the other endpoint: %+v", d)
			}
		}
		if took := time.Since(started); took > 3*timeout {
			t.Fatalf("the other endpoint waited %s behind the hanging one", took)
		}
		t.Logf("the other endpoint's %d deliveries took %s beside the hanging one", events, time.Since(started).Round(time.Millisecond))
		hung := w.waitDeliveries(t, stuck.ID, events, 30*time.Second)
		d := hung[0]
		_, attempts, err := w.wh.GetDelivery(w.f.Ctx, d.EndpointID, d.ID)
		if err != nil || len(attempts) != 1 {
			t.Fatalf("attempts %+v, %v", attempts, err)
		}
		a := attempts[0]
		if d.Status != notify.Failed || a.StatusCode != 0 || !strings.Contains(a.Error, "time limit") || a.Duration < timeout || a.Duration > timeout+2*time.Second {
			t.Fatalf("hanging attempt %+v (delivery %+v)", a, d)
		}
		t.Logf("hanging receiver: attempt ended after %s (timeout %s)", a.Duration, timeout)
	})
}

// TestRefusedURLsNameTheFieldAndChangeNothing, on both engines.
func TestRefusedURLsNameTheFieldAndChangeNothing(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		wh, err := notify.New(db, notify.Options{})
		if err != nil {
			t.Fatal(err)
		}
		before, _ := activity.ForEntity(f.Ctx, db, notify.EntityType, "", 10)
		for _, c := range []struct{ url, field string }{
			{"ftp://files.example.com/in", "url"},
			{"http://169.254.169.254/latest/meta-data/iam", "url"},
			{"http://[fe80::1%25eth0]/", "url"},
			{"http://169.254.1.1/", "url"},
			{"http://metadata.google.internal/computeMetadata/v1/", "url"},
			{"http://[fd00:ec2::254]/", "url"},
			{"http://127.0.0.1:8080/", "url"},
			{"http://localhost/", "url"},
			{"http://10.0.0.8/hooks", "url"},
		} {
			_, _, err := wh.CreateEndpoint(f.Ctx, notify.EndpointInput{Name: "x", URL: c.url}, nil)
			if e, ok := fault.As(err); !ok || e.Kind != fault.Invalid || e.Fields[c.field] == "" {
				t.Errorf("%s: %v, want a %s field error", c.url, err, c.field)
			}
		}
		for _, c := range []struct {
			name  string
			sub   notify.SubscriptionInput
			field string
		}{
			{"", notify.SubscriptionInput{Stream: notify.ActivityStream}, "name"},
			{"SIEM\x1b[31m", notify.SubscriptionInput{Stream: notify.ActivityStream}, "name"},
			{"SIEM\nERP", notify.SubscriptionInput{Stream: notify.ActivityStream}, "name"},
			{"x", notify.SubscriptionInput{Stream: "everything"}, "stream"},
			{"x", notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: "shoes"}, "filter"},
			{"x", notify.SubscriptionInput{Stream: notify.ChangesStream, Filter: "teleport"}, "filter"},
			{"x", notify.SubscriptionInput{Stream: notify.ChangesStream, Format: notify.OCSF}, "format"},
			{"x", notify.SubscriptionInput{Stream: notify.ActivityStream, Format: "xml"}, "format"},
		} {
			_, _, err := wh.CreateEndpoint(f.Ctx, notify.EndpointInput{Name: c.name, URL: "https://siem.example.com/in"}, []notify.SubscriptionInput{c.sub})
			if e, ok := fault.As(err); !ok || e.Kind != fault.Invalid || e.Fields[c.field] == "" {
				t.Errorf("%+v: %v, want a %s field error", c, err, c.field)
			}
		}
		list, err := wh.ListEndpoints(f.Ctx)
		if err != nil || len(list) != 0 {
			t.Fatalf("refused endpoints stored: %+v %v", list, err)
		}
		var events int
		if err := db.Read().QueryRowContext(f.Ctx, `SELECT COUNT(*) FROM activity_events WHERE entity_type = 'webhooks'`).Scan(&events); err != nil || events != 0 || len(before) != 0 {
			t.Fatalf("%d webhook events after refusals (%v)", events, err)
		}
		// A good one is saved; a bad change to it changes nothing.
		e, secret, err := wh.CreateEndpoint(f.Ctx, notify.EndpointInput{Name: "ERP", URL: "https://erp.example.com/in"}, nil)
		if err != nil || !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("create: %v", err)
		}
		bad := "http://169.254.169.254/"
		if _, err := wh.UpdateEndpoint(f.Ctx, e.ID, notify.EndpointChange{URL: &bad}); !fault.Is(err, fault.Invalid) {
			t.Fatalf("update to metadata: %v", err)
		}
		if got, _ := wh.GetEndpoint(f.Ctx, e.ID); got.URL != "https://erp.example.com/in" {
			t.Fatalf("url changed to %q", got.URL)
		}
		// Rotation: a new secret, audited without the secret itself.
		rotated, err := wh.RotateSecret(f.Ctx, e.ID)
		if err != nil || rotated == secret || !strings.HasPrefix(rotated, "whsec_") {
			t.Fatalf("rotate: %v", err)
		}
		var leaked int
		if err := db.Read().QueryRowContext(f.Ctx, `SELECT COUNT(*) FROM activity_events WHERE new_values LIKE $1 OR old_values LIKE $1 OR new_values LIKE $2 OR old_values LIKE $2`,
			"%"+secret[10:]+"%", "%"+rotated[10:]+"%").Scan(&leaked); err != nil || leaked != 0 {
			t.Fatalf("secret in the activity log: %d (%v)", leaked, err)
		}
		auditor := actor.With(context.Background(), actor.Actor{WorkspaceID: f.Workspace.ID, Kind: actor.User, ID: 99, Name: "Aud", Role: actor.Auditor})
		if _, _, err := wh.CreateEndpoint(auditor, notify.EndpointInput{Name: "x", URL: "https://x.example.com"}, nil); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("auditor created an endpoint: %v", err)
		}
		if _, err := wh.ListEndpoints(auditor); err != nil {
			t.Fatalf("auditor cannot see endpoints: %v", err)
		}
	})
}

// TestDisabledEndpointsReceiveNothing: a disabled endpoint gets no new
// deliveries, and the ones already waiting fail without an attempt; once
// enabled again, Redeliver sends them.
func TestDisabledEndpointsReceiveNothing(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, notify.Options{})
		rc := newReceiver(t)
		srv := httptest.NewServer(rc)
		defer srv.Close()
		e := w.endpoint(t, srv.URL, rc, notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: "assets"})
		off, on := false, true
		// Written while enabled, sent after it was disabled: fails unsent.
		w.event(t, activity.Update, activity.Assets, "assets")
		ledgertest.SealAll(t, w.sealer)
		if err := w.wh.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := w.wh.Fanout(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := w.wh.UpdateEndpoint(w.f.Ctx, e.ID, notify.EndpointChange{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		if err := w.wh.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ds := w.waitDeliveries(t, e.ID, 1, 10*time.Second)
		if ds[0].Status != notify.Failed || ds[0].Attempts != 0 || !strings.Contains(ds[0].LastError, "disabled") {
			t.Fatalf("waiting delivery of a disabled endpoint: %+v", ds[0])
		}
		// Disabled: new events make no deliveries.
		w.event(t, activity.Delete, activity.Assets, "assets")
		w.pump(t)
		if ds, _ := w.wh.ListDeliveries(w.f.Ctx, e.ID, notify.DeliveryFilter{}); len(ds) != 1 {
			t.Fatalf("%d deliveries while disabled", len(ds))
		}
		if _, err := w.wh.UpdateEndpoint(w.f.Ctx, e.ID, notify.EndpointChange{Enabled: &on}); err != nil {
			t.Fatal(err)
		}
		if err := w.wh.Redeliver(w.f.Ctx, ds[0].EndpointID, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		ds = w.waitDeliveries(t, e.ID, 1, 10*time.Second)
		if ds[0].Status != notify.Delivered || len(rc.accepted()) != 1 {
			t.Fatalf("after enabling and redelivering: %+v", ds[0])
		}
	})
}

// TestFinishedDeliveriesArePrunedAfter30Days: deliveries finished more
// than 30 days ago go with their attempts; newer ones and waiting ones stay.
func TestFinishedDeliveriesArePrunedAfter30Days(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, notify.Options{})
		rc := newReceiver(t)
		srv := httptest.NewServer(rc)
		defer srv.Close()
		e := w.endpoint(t, srv.URL, rc, notify.SubscriptionInput{Stream: notify.ActivityStream, Filter: "orders"})
		w.event(t, activity.Create, activity.Orders, "orders")
		w.event(t, activity.Update, activity.Orders, "orders")
		w.pump(t)
		ds := w.waitDeliveries(t, e.ID, 2, 10*time.Second)
		old := ds[1]
		if _, err := db.Exec(context.Background(), `UPDATE webhook_deliveries SET finished_at = $1 WHERE id = $2`,
			store.Micros(time.Now().Add(-31*24*time.Hour)), old.ID); err != nil {
			t.Fatal(err)
		}
		n, err := w.wh.PruneDeliveries(context.Background(), time.Now())
		if err != nil || n != 1 {
			t.Fatalf("pruned %d (%v), want 1", n, err)
		}
		if _, _, err := w.wh.GetDelivery(w.f.Ctx, old.EndpointID, old.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("old delivery still there: %v", err)
		}
		var attempts int
		if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM webhook_attempts WHERE delivery_id = $1`, old.ID).Scan(&attempts); err != nil || attempts != 0 {
			t.Fatalf("%d attempts of the pruned delivery left (%v)", attempts, err)
		}
		if _, got, err := w.wh.GetDelivery(w.f.Ctx, ds[0].EndpointID, ds[0].ID); err != nil || len(got) != 1 {
			t.Fatalf("recent delivery: %v %v", got, err)
		}
		// A delivery is read and redelivered only through its own endpoint.
		if _, _, err := w.wh.GetDelivery(w.f.Ctx, ds[0].EndpointID+1000, ds[0].ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("delivery read through another endpoint: %v", err)
		}
		if err := w.wh.Redeliver(w.f.Ctx, ds[0].EndpointID+1000, ds[0].ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("delivery redelivered through another endpoint: %v", err)
		}
	})
}
