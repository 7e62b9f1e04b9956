package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// Status is where a message of the outbox stands.
type Status string

const (
	Pending Status = "pending"
	Sent    Status = "sent"
	Failed  Status = "failed"
)

// Message is one e-mail of the outbox, to one recipient.
type Message struct {
	ID            int64
	Kind          string // alert or test
	SourceEventID int64
	Recipient     string
	Subject       string
	Body          string
	CreatedAt     time.Time
	Status        Status
	Attempts      []Attempt
	AttemptCount  int
	NextAttemptAt time.Time
	LastError     string
	SentAt        time.Time
}

// Attempt is one delivery attempt's outcome.
type Attempt struct {
	At       time.Time
	Duration time.Duration
	OK       bool
	// SMTPCode is the server's reply code when it refused (0 when the
	// connection itself failed).
	SMTPCode int
	Error    string
}

// Took says how long the attempt took, for a person.
func (a Attempt) Took() string {
	if a.Duration < time.Second {
		return "under a second"
	}
	return a.Duration.Round(100 * time.Millisecond).String()
}

// StatusText says where the message stands, in words.
func (m Message) StatusText() string {
	switch m.Status {
	case Sent:
		return "Sent"
	case Failed:
		return fmt.Sprintf("Gave up after %d %s", m.AttemptCount, plural(m.AttemptCount, "attempt", "attempts"))
	}
	if m.AttemptCount == 0 {
		return "Waiting to be sent"
	}
	return fmt.Sprintf("Will retry (attempt %d failed)", m.AttemptCount)
}

// Messages returns the actor's workspace's most recent messages, newest
// first, each with its attempts.
func Messages(ctx context.Context, r store.Reader, limit int) ([]Message, error) {
	a, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := r.Read()
	rows, err := q.QueryContext(ctx, `SELECT id, kind, source_event_id, recipient, subject, body, created_at, status,
		attempts, next_attempt_at, last_error, COALESCE(sent_at, 0)
		FROM email_outbox WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2`, a.WorkspaceID, limit)
	if err != nil {
		return nil, err
	}
	var out []Message
	byID := map[int64]int{}
	for rows.Next() {
		var m Message
		var created, next, sent int64
		if err := rows.Scan(&m.ID, &m.Kind, &m.SourceEventID, &m.Recipient, &m.Subject, &m.Body, &created, &m.Status,
			&m.AttemptCount, &next, &m.LastError, &sent); err != nil {
			rows.Close()
			return nil, err
		}
		m.CreatedAt, m.NextAttemptAt = store.Time(created), store.Time(next)
		if sent != 0 {
			m.SentAt = store.Time(sent)
		}
		byID[m.ID] = len(out)
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	// The attempts of the messages shown, in one query.
	arows, err := q.QueryContext(ctx, `SELECT message_id, attempted_at, duration_ms, ok, smtp_code, error
		FROM email_attempts WHERE workspace_id = $1 AND message_id >= $2 AND message_id <= $3 ORDER BY id`,
		a.WorkspaceID, out[len(out)-1].ID, out[0].ID)
	if err != nil {
		return nil, err
	}
	defer arows.Close()
	for arows.Next() {
		var id, at, ms int64
		var ok int
		var at1 Attempt
		if err := arows.Scan(&id, &at, &ms, &ok, &at1.SMTPCode, &at1.Error); err != nil {
			return nil, err
		}
		at1.At, at1.Duration, at1.OK = store.Time(at), time.Duration(ms)*time.Millisecond, ok == 1
		if i, found := byID[id]; found {
			out[i].Attempts = append(out[i].Attempts, at1)
		}
	}
	return out, arows.Err()
}

// EmailTest is the action of the event recorded when an admin sends a test e-mail.
const EmailTest activity.Action = "EMAIL_TEST"

// QueueTest puts a test message to the given address (form field "to") in
// the outbox; the sender delivers it like any other, so the page shows its
// attempts. It needs e-mail to be configured.
func QueueTest(ctx context.Context, db *store.DB, cfg Config, to string) (int64, error) {
	a, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return 0, err
	}
	if !cfg.Configured() {
		return 0, fault.New(fault.Conflict, "e-mail is not configured on this install: the operator starts serve with %s and %s", FlagURL, FlagFrom)
	}
	addr, err := ParseAddress(to)
	if err != nil {
		return 0, fieldError("to", "Test e-mail address", err.Error())
	}
	var id int64
	err = db.InTx(ctx, func(tx *store.Tx) error {
		ws, err := workspace.Get(ctx, tx)
		if err != nil {
			return err
		}
		evID, err := activity.Record(ctx, tx, activity.Event{Action: EmailTest, Category: activity.Configuration,
			EntityType: "email", EntityID: "test", New: map[string]any{"to": addr},
			Description: fmt.Sprintf("Test e-mail to %s queued", addr)})
		if err != nil {
			return err
		}
		link, complete := cfg.Link("/notifications/email")
		body := fmt.Sprintf("This is a test e-mail from stocktrail, sent by %s of the workspace %q from "+
			"Configuration → Notifications → E-mail.\n\nIf you can read this, stocktrail can send you alert e-mails.\n\n%s\n",
			a.Name, ws.Name, linkLine(link, complete))
		id, err = enqueue(ctx, tx, a.WorkspaceID, "test", evID, addr, "stocktrail test e-mail", body, time.Now())
		return err
	})
	return id, err
}

// RetryMessage puts a message that was given up on back in the outbox, to
// be sent at once.
func RetryMessage(ctx context.Context, db *store.DB, id int64) error {
	a, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		var status Status
		var to string
		err := tx.QueryRowContext(ctx, `SELECT status, recipient FROM email_outbox WHERE workspace_id = $1 AND id = $2`+tx.ForUpdate(),
			a.WorkspaceID, id).Scan(&status, &to)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.New(fault.NotFound, "no such e-mail")
		}
		if err != nil {
			return err
		}
		if status != Failed {
			return fault.New(fault.Conflict, "only an e-mail that was given up on can be retried; this one is %s", status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE email_outbox SET status = 'pending', next_attempt_at = $3
			WHERE workspace_id = $1 AND id = $2`, a.WorkspaceID, id, store.Micros(time.Now())); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Configuration,
			EntityType: "email", EntityID: fmt.Sprint(id), Old: map[string]any{"status": string(status)},
			New: map[string]any{"status": string(Pending)}, Description: fmt.Sprintf("E-mail to %s sent again after it was given up on", to)})
		return err
	})
}

// enqueue writes one outbox row; a second row for the same event and
// recipient is ignored (so a redelivered event is mailed once).
func enqueue(ctx context.Context, tx *store.Tx, ws int64, kind string, eventID int64, to, subject, body string, now time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO email_outbox (workspace_id, kind, source_event_id, recipient, subject, body,
		created_at, status, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $7)
		ON CONFLICT (workspace_id, source_event_id, recipient) DO NOTHING RETURNING id`,
		ws, kind, eventID, to, subject, body, store.Micros(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

func linkLine(link string, complete bool) string {
	if complete {
		return "Open it: " + link
	}
	return "In stocktrail, go to " + link + " (this install has no public address set, so this is the path alone)."
}
