package alerts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Alert statuses.
const (
	Open         = "open"
	Acknowledged = "acknowledged"
)

// ActionRaised and ActionAcknowledged are the activity actions of alerts
// (the contract with the webhook and e-mail senders).
const (
	ActionRaised       activity.Action = "ALERT_RAISED"
	ActionAcknowledged activity.Action = "ALERT_ACKNOWLEDGED"
)

// maxNoteLength bounds an acknowledgement's note.
const maxNoteLength = 2000

// Alert is one burst that fired a rule.
type Alert struct {
	ID       int64  `json:"id"`
	RuleID   int64  `json:"rule_id"`
	Kind     Kind   `json:"kind"`
	RuleName string `json:"rule_name"`
	// Subject is who or what the burst is about: an account, a network
	// address, a person, an API key or a station.
	Subject        string     `json:"subject"`
	Status         string     `json:"status"`
	EvidenceCount  int        `json:"evidence_count"`
	Weight         int64      `json:"weight"`
	FirstAt        time.Time  `json:"first_at"`
	LastAt         time.Time  `json:"last_at"`
	RaisedAt       time.Time  `json:"raised_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	Note           string     `json:"note,omitempty"`
	Summary        string     `json:"summary"`
}

// KindLabel is the rule's kind as people say it (for templates).
func (a Alert) KindLabel() string { return a.Kind.Label() }

// IsOpen reports whether nobody has acknowledged the alert yet.
func (a Alert) IsOpen() bool { return a.Status == Open }

// summary says in a sentence what happened.
func summary(kind Kind, key, subject string, weight int64, count int) string {
	switch kind {
	case FailedLogins:
		if strings.HasPrefix(key, "ip:") {
			return fmt.Sprintf("%s from %s", plural(int(weight), "failed login", "failed logins"), subject)
		}
		return fmt.Sprintf("%s for %s", plural(int(weight), "failed login", "failed logins"), subject)
	case AfterHoursAccess:
		return fmt.Sprintf("%s outside business hours by %s", plural(count, "action", "actions"), subject)
	case BulkExport:
		return fmt.Sprintf("%s by %s", plural(count, "large or repeated export", "large or repeated exports"), subject)
	case LargeCorrection:
		return fmt.Sprintf("%s by %s", plural(count, "large stock correction", "large stock corrections"), subject)
	case AfterHoursStockChange:
		return fmt.Sprintf("%s outside business hours by %s", plural(count, "stock change", "stock changes"), subject)
	}
	return subject
}

// Link is where the evidence sits in its log: the activity log or the
// change log, opened at the entry (the first line of the page).
func (e Evidence) Link() string {
	if e.Log == logInventory {
		return "/inventory/log?cursor=" + inventory.Cursor(e.EntryID+1)
	}
	return fmt.Sprintf("/activity?cursor=%s", activity.Cursor{At: store.Micros(e.OccurredAt), ID: e.EntryID + 1})
}

// LogLabel names the evidence's log for people.
func (e Evidence) LogLabel() string {
	if e.Log == logInventory {
		return "change log"
	}
	return "activity log"
}

const alertColumns = `id, rule_id, kind, rule_name, group_key, subject, status, evidence_count, weight, first_at, last_at, raised_at,
	COALESCE(acknowledged_at, 0), acknowledged_by, ack_note`

func scanAlert(row interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var first, last, raised, acked int64
	var key string
	if err := row.Scan(&a.ID, &a.RuleID, &a.Kind, &a.RuleName, &key, &a.Subject, &a.Status, &a.EvidenceCount, &a.Weight,
		&first, &last, &raised, &acked, &a.AcknowledgedBy, &a.Note); err != nil {
		return Alert{}, err
	}
	a.FirstAt, a.LastAt, a.RaisedAt = store.Time(first), store.Time(last), store.Time(raised)
	if acked != 0 {
		t := store.Time(acked)
		a.AcknowledgedAt = &t
	}
	a.Summary = summary(a.Kind, key, a.Subject, a.Weight, a.EvidenceCount)
	return a, nil
}

// AlertFilter selects alerts; zero fields do not filter.
type AlertFilter struct {
	Status string // Open or Acknowledged
	RuleID int64
	// Before is the keyset cursor: only alerts with a smaller id.
	Before int64
	Limit  int
}

// MaxAlertPage is the largest page of alerts.
const MaxAlertPage = 200

// ListAlerts returns the workspace's alerts matching f, newest first.
func ListAlerts(ctx context.Context, r store.Reader, f AlertFilter) ([]Alert, error) {
	a, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return nil, err
	}
	if f.Status != "" && f.Status != Open && f.Status != Acknowledged {
		return nil, fault.Field("status", "must be open or acknowledged")
	}
	if f.Limit <= 0 || f.Limit > MaxAlertPage {
		f.Limit = 50
	}
	w := store.NewWhere("workspace_id = ?", a.WorkspaceID)
	if f.Status != "" {
		w.And("status = ?", f.Status)
	}
	if f.RuleID != 0 {
		w.And("rule_id = ?", f.RuleID)
	}
	if f.Before != 0 {
		w.And("id < ?", f.Before)
	}
	rows, err := r.Read().QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE `+w.String()+
		` ORDER BY id DESC LIMIT `+w.Add(f.Limit), w.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		al, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, al)
	}
	return out, rows.Err()
}

// CountOpen returns how many alerts of the workspace are open.
func CountOpen(ctx context.Context, r store.Reader) (int, error) {
	a, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return 0, err
	}
	var n int
	err = r.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE workspace_id = $1 AND status = $2`, a.WorkspaceID, Open).Scan(&n)
	return n, err
}

// MaxEvidence caps the evidence shown with an alert; the count says how
// much there is in all.
const MaxEvidence = 500

// GetAlert returns one alert of the actor's workspace with its evidence,
// in log order.
func GetAlert(ctx context.Context, r store.Reader, id int64) (Alert, []Evidence, error) {
	who, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return Alert{}, nil, err
	}
	q := r.Read()
	al, err := scanAlert(q.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE workspace_id = $1 AND id = $2`, who.WorkspaceID, id))
	if err != nil {
		return Alert{}, nil, store.NotFound(err, "alert")
	}
	rows, err := q.QueryContext(ctx, `SELECT log, entry_id, seq, occurred_at, weight, summary FROM alert_evidence
		WHERE workspace_id = $1 AND alert_id = $2 ORDER BY seq LIMIT $3`, who.WorkspaceID, id, MaxEvidence)
	if err != nil {
		return Alert{}, nil, err
	}
	defer rows.Close()
	var out []Evidence
	for rows.Next() {
		var e Evidence
		var at int64
		if err := rows.Scan(&e.Log, &e.EntryID, &e.Seq, &at, &e.Weight, &e.Summary); err != nil {
			return Alert{}, nil, err
		}
		e.OccurredAt = store.Time(at)
		out = append(out, e)
	}
	return al, out, rows.Err()
}

// Acknowledge marks an open alert as seen by the actor, with an optional
// note, and records it. Acknowledging it again is refused.
func Acknowledge(ctx context.Context, db *store.DB, id int64, note string) (Alert, error) {
	who, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return Alert{}, err
	}
	note = strings.TrimSpace(note)
	if len(note) > maxNoteLength {
		return Alert{}, fault.Field("note", fmt.Sprintf("Use at most %d characters", maxNoteLength))
	}
	if err := plaintext.Check("note", note); err != nil {
		return Alert{}, err
	}
	var out Alert
	err = db.InTx(ctx, func(tx *store.Tx) error {
		al, err := scanAlert(tx.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE workspace_id = $1 AND id = $2`+tx.ForUpdate(),
			who.WorkspaceID, id))
		if err != nil {
			return store.NotFound(err, "alert")
		}
		if al.Status != Open {
			return fault.New(fault.Conflict, "this alert was already acknowledged by %s", al.AcknowledgedBy)
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET status = $1, acknowledged_at = $2, acknowledged_by = $3, ack_note = $4
			WHERE workspace_id = $5 AND id = $6`, Acknowledged, store.Micros(now), who.Name, note, who.WorkspaceID, id); err != nil {
			return err
		}
		al.Status, al.AcknowledgedAt, al.AcknowledgedBy, al.Note = Acknowledged, &now, who.Name, note
		out = al
		desc := fmt.Sprintf("alert acknowledged: %s (rule %q)", al.Summary, al.RuleName)
		if note != "" {
			desc += ": " + note
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: ActionAcknowledged, Category: activity.Audit, EntityType: "alerts",
			EntityID: fmt.Sprint(id), Old: map[string]any{"status": Open}, New: map[string]any{"alert_id": id, "note": note, "status": Acknowledged},
			Description: desc})
		return err
	})
	return out, err
}
