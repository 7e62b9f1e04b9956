package notify

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
)

// newHTTPClient sends deliveries: every connection's address is checked
// by the policy (after name resolution), no proxy from the environment is
// used (it would connect for us, unchecked), redirects are not followed
// (the receiver must answer itself; a 3xx is a failed attempt), and the
// whole exchange is bounded by timeout.
func newHTTPClient(policy AddressPolicy, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: min(timeout, 5*time.Second), Control: policy.dialControl}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   min(timeout, 5*time.Second),
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	Pending   DeliveryStatus = "pending"
	Delivered DeliveryStatus = "delivered"
	Failed    DeliveryStatus = "failed"
)

// Delivery is one message to one endpoint.
type Delivery struct {
	ID          int64          `json:"id"`
	EndpointID  int64          `json:"endpoint_id"`
	MessageID   string         `json:"message_id"`
	EventType   string         `json:"event_type"`
	Sequence    int64          `json:"sequence"`
	Log         string         `json:"log"`
	EntryID     int64          `json:"entry_id"`
	Format      Format         `json:"format"`
	Status      DeliveryStatus `json:"status"`
	Attempts    int            `json:"attempts"`
	NextAttempt time.Time      `json:"next_attempt_at,omitzero"`
	LastStatus  int            `json:"last_status_code,omitempty"`
	LastError   string         `json:"last_error,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
	FinishedAt  time.Time      `json:"finished_at,omitzero"`
	// Payload is the body sent (only on a single delivery's read).
	Payload string `json:"payload,omitempty"`
}

// Attempt is one try at sending a delivery.
type Attempt struct {
	ID          int64     `json:"id"`
	AttemptedAt time.Time `json:"attempted_at"`
	// Duration is how long the attempt took, connection to answer.
	Duration   time.Duration `json:"-"`
	DurationMS int64         `json:"duration_ms"`
	StatusCode int           `json:"status_code,omitempty"`
	Error      string        `json:"error,omitempty"`
	// Response is the start of the receiver's answer.
	Response string `json:"response,omitempty"`
}

// Label names the delivered event for people: "Alert raised", "Login",
// "Stock change: corrections".
func (d Delivery) Label() string {
	kind, what, _ := strings.Cut(d.EventType, ".")
	words := strings.ReplaceAll(what, "_", " ")
	if words != "" {
		words = strings.ToUpper(words[:1]) + words[1:]
	}
	switch kind {
	case "alert":
		return "Alert " + strings.ToLower(words)
	case "change":
		return "Stock change: " + strings.ToLower(inventory.Action(what).Label())
	}
	return words
}

// Succeeded reports whether the receiver took the delivery.
func (a Attempt) Succeeded() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// DurationText is the duration for people.
func (a Attempt) DurationText() string {
	if a.Duration < time.Millisecond {
		return "under 1 ms"
	}
	if a.Duration < time.Second {
		return fmt.Sprintf("%d ms", a.Duration.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", a.Duration.Seconds())
}

// deliveryArgs is the River job that sends one delivery.
type deliveryArgs struct {
	WorkspaceID int64 `json:"workspace_id"`
	DeliveryID  int64 `json:"delivery_id"`
}

func (deliveryArgs) Kind() string { return "webhook_delivery" }

func (deliveryArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: queueName} }

// enqueue inserts the job that sends a delivery, in tx.
func (w *Webhooks) enqueue(ctx context.Context, tx *store.Tx, ws, deliveryID int64) error {
	if _, err := w.queue.InsertTx(ctx, tx.Tx, deliveryArgs{WorkspaceID: ws, DeliveryID: deliveryID}, nil); err != nil {
		return fmt.Errorf("queue webhook delivery: %w", err)
	}
	return nil
}

type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	w *Webhooks
}

// Timeout leaves River's own job timeout to Options.Timeout plus the
// bookkeeping around it.
func (dw *deliveryWorker) Timeout(*river.Job[deliveryArgs]) time.Duration {
	return dw.w.opts.Timeout + time.Minute
}

// responseSnippet bounds how much of an answer is kept.
const responseSnippet = 512

// Work sends one delivery once and records the attempt. An error makes
// River retry it later (backoff); after the last attempt the delivery is
// marked failed.
func (dw *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	w := dw.w
	ws, id := job.Args.WorkspaceID, job.Args.DeliveryID
	var d struct {
		endpointID     int64
		messageID, url string
		secret         string
		payload        string
		status         string
		enabled        bool
	}
	var enabled int
	err := w.db.Read().QueryRowContext(ctx, `SELECT d.endpoint_id, d.message_id, e.url, e.secret, d.payload, d.status, e.enabled
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.workspace_id = d.workspace_id AND e.id = d.endpoint_id
		WHERE d.workspace_id = $1 AND d.id = $2`, ws, id).
		Scan(&d.endpointID, &d.messageID, &d.url, &d.secret, &d.payload, &d.status, &enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("webhook delivery %d of workspace %d not found", id, ws))
	}
	if err != nil {
		return err
	}
	d.enabled = enabled == 1
	if d.status != string(Pending) {
		// Already delivered (a redelivery queued twice, or River running a
		// job again after a crash between our commit and its own).
		return nil
	}
	if !d.enabled {
		return river.JobCancel(w.failDisabled(ctx, ws, id))
	}
	reserved, ok := w.take(d.endpointID)
	if !ok {
		// A slow or hanging receiver that already has its share of
		// attempts under way: try later without counting an attempt, and
		// leave the workers to the other endpoints.
		return river.JobSnooze(time.Second)
	}
	started := time.Now()
	code, snippet, sendErr := w.send(ctx, d.url, d.secret, d.messageID, started, []byte(d.payload))
	took := time.Since(started)
	w.release(d.endpointID, reserved)
	if ctx.Err() != nil && sendErr != nil {
		// Shutting down: this was no real attempt; River runs it again
		// without counting it.
		return river.JobSnooze(0)
	}
	errText := ""
	if sendErr != nil {
		errText = describeSendError(sendErr)
	} else if code < 200 || code > 299 {
		errText = fmt.Sprintf("the receiver answered %d %s", code, http.StatusText(code))
	}
	status, next := Delivered, time.Time{}
	if errText != "" {
		status = Pending
		if job.Attempt >= job.MaxAttempts {
			status = Failed
		} else {
			next = time.Now().Add(backoff{base: w.opts.RetryBase, limit: w.opts.RetryCap}.wait(job.Attempt))
		}
	}
	err = w.db.InTx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		var statusCode any
		if code != 0 {
			statusCode = code
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (workspace_id, delivery_id, attempted_at, duration_us, status_code, error, response)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, ws, id, store.Micros(started), took.Microseconds(), statusCode, errText, snippet); err != nil {
			return fmt.Errorf("record webhook attempt: %w", err)
		}
		return updateDelivery(ctx, tx, ws, id, status, code, errText, next)
	})
	if err != nil {
		return err
	}
	if errText == "" {
		return nil
	}
	if status == Failed {
		return river.JobCancel(errors.New(errText))
	}
	return errors.New(errText)
}

func updateDelivery(ctx context.Context, tx *store.Tx, ws, id int64, status DeliveryStatus, code int, errText string, next time.Time) error {
	var statusCode any
	if code != 0 {
		statusCode = code
	}
	var finished sql.NullInt64
	if status != Pending {
		finished = store.NullMicros(time.Now())
	}
	_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_status = $2, last_error = $3,
		next_attempt_at = $4, finished_at = $5 WHERE workspace_id = $6 AND id = $7`,
		string(status), statusCode, errText, store.NullMicros(next), finished, ws, id)
	if err != nil {
		return fmt.Errorf("update webhook delivery: %w", err)
	}
	return nil
}

// failDisabled marks a delivery to a disabled endpoint failed, without an
// attempt; Redeliver sends it once the endpoint is enabled again.
func (w *Webhooks) failDisabled(ctx context.Context, ws, id int64) error {
	const why = "not sent: the endpoint is disabled"
	err := w.db.InTx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'failed', last_error = $1, next_attempt_at = NULL, finished_at = $2
			WHERE workspace_id = $3 AND id = $4`, why, store.Micros(time.Now()), ws, id)
		return err
	})
	if err != nil {
		return err
	}
	return errors.New(why)
}

// send POSTs one signed message and returns the status code and the start
// of the answer.
func (w *Webhooks) send(ctx context.Context, target, secret, messageID string, at time.Time, body []byte) (int, string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return 0, "", err
	}
	if _, err := w.opts.Policy.checkStatic(u); err != nil {
		return 0, "", err
	}
	ts := at.Unix()
	sig, err := Sign(secret, messageID, ts, body)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stocktrail-webhooks/1")
	req.Header.Set("webhook-id", messageID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, responseSnippet))
	// Drain a little more so the connection can be reused; never all of it.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, validUTF8(head), nil
}

func validUTF8(b []byte) string {
	s := strings.ToValidUTF8(string(b), "�")
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// describeSendError says why no answer came, in words for the page.
func describeSendError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errAddressRefused):
		return "refused: " + strings.TrimPrefix(unwrapAll(err), "address not allowed for webhooks: ") + " (not allowed for webhooks)"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer within the time limit"
	}
	if e, ok := fault.As(err); ok {
		return e.Message
	}
	return unwrapAll(err)
}

// unwrapAll is the innermost error's text (Go's URL errors repeat the URL).
func unwrapAll(err error) string {
	for {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
			continue
		}
		return err.Error()
	}
}

// Redeliver sends a delivery again, whatever its state: a new job with a
// fresh set of attempts; the earlier attempts stay on record.
func (w *Webhooks) Redeliver(ctx context.Context, endpointID, deliveryID int64) error {
	who, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return err
	}
	return w.db.InTx(ctx, func(tx *store.Tx) error {
		var name, eventType, messageID, status string
		err := tx.QueryRowContext(ctx, `SELECT e.name, d.event_type, d.message_id, d.status
			FROM webhook_deliveries d JOIN webhook_endpoints e ON e.workspace_id = d.workspace_id AND e.id = d.endpoint_id
			WHERE d.workspace_id = $1 AND d.id = $2 AND d.endpoint_id = $3`, who.WorkspaceID, deliveryID, endpointID).Scan(&name, &eventType, &messageID, &status)
		if err != nil {
			return store.NotFound(err, "webhook delivery")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, finished_at = NULL
			WHERE workspace_id = $2 AND id = $3`, store.Micros(time.Now()), who.WorkspaceID, deliveryID); err != nil {
			return fmt.Errorf("redeliver: %w", err)
		}
		if err := w.enqueue(ctx, tx, who.WorkspaceID, deliveryID); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Configuration,
			EntityType: EntityType, EntityID: fmt.Sprint(endpointID),
			Old:         map[string]any{"delivery": messageID, "status": status},
			New:         map[string]any{"delivery": messageID, "status": string(Pending)},
			Description: fmt.Sprintf("Redelivery of %s (%s) to webhook endpoint “%s” requested", messageID, eventType, name)})
		return err
	})
}

const deliveryColumns = `id, endpoint_id, message_id, event_type, seq, log, entry_id, format, status, attempts, next_attempt_at,
	last_status, last_error, created_at, finished_at`

func scanDelivery(row interface{ Scan(...any) error }, extra ...any) (Delivery, error) {
	var d Delivery
	var next, finished, lastStatus sql.NullInt64
	var created int64
	dest := append([]any{&d.ID, &d.EndpointID, &d.MessageID, &d.EventType, &d.Sequence, &d.Log, &d.EntryID, &d.Format, &d.Status,
		&d.Attempts, &next, &lastStatus, &d.LastError, &created, &finished}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Delivery{}, err
	}
	d.NextAttempt, d.FinishedAt, d.CreatedAt = store.NullTime(next), store.NullTime(finished), store.Time(created)
	d.LastStatus = int(lastStatus.Int64)
	return d, nil
}

// DeliveryFilter selects an endpoint's deliveries.
type DeliveryFilter struct {
	Status DeliveryStatus
	// Before pages back: deliveries with a smaller id.
	Before int64
	Limit  int
}

// ListDeliveries returns an endpoint's deliveries, newest first.
func (w *Webhooks) ListDeliveries(ctx context.Context, endpointID int64, f DeliveryFilter) ([]Delivery, error) {
	who, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	where := store.NewWhere("workspace_id = ?", who.WorkspaceID).And("endpoint_id = ?", endpointID)
	switch f.Status {
	case "":
	case Pending, Delivered, Failed:
		where.And("status = ?", string(f.Status))
	default:
		return nil, fault.Field("status", "choose pending, delivered or failed")
	}
	if f.Before > 0 {
		where.And("id < ?", f.Before)
	}
	rows, err := w.db.Read().QueryContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE `+where.String()+
		` ORDER BY id DESC LIMIT `+where.Add(f.Limit), where.Args...)
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// GetDelivery returns one delivery with its body and attempts, newest first.
func (w *Webhooks) GetDelivery(ctx context.Context, endpointID, id int64) (Delivery, []Attempt, error) {
	who, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return Delivery{}, nil, err
	}
	var payload string
	d, err := scanDelivery(w.db.Read().QueryRowContext(ctx, `SELECT `+deliveryColumns+`, payload FROM webhook_deliveries WHERE workspace_id = $1 AND id = $2 AND endpoint_id = $3`,
		who.WorkspaceID, id, endpointID), &payload)
	if err != nil {
		return Delivery{}, nil, store.NotFound(err, "webhook delivery")
	}
	d.Payload = payload
	attempts, err := attemptsOf(ctx, w.db.Read(), who.WorkspaceID, id)
	return d, attempts, err
}

func attemptsOf(ctx context.Context, q store.Querier, ws, deliveryID int64) ([]Attempt, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, attempted_at, duration_us, status_code, error, response FROM webhook_attempts
		WHERE workspace_id = $1 AND delivery_id = $2 ORDER BY id DESC`, ws, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("webhook attempts: %w", err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var at, us int64
		var code sql.NullInt64
		if err := rows.Scan(&a.ID, &at, &us, &code, &a.Error, &a.Response); err != nil {
			return nil, err
		}
		a.AttemptedAt, a.Duration, a.StatusCode = store.Time(at), time.Duration(us)*time.Microsecond, int(code.Int64)
		a.DurationMS = a.Duration.Milliseconds()
		out = append(out, a)
	}
	return out, rows.Err()
}
