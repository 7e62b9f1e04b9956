package mail

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// AlertRaised is the action of the event the alerts area records when a rule
// fires; its new values are alertRaised (the contract in the lead's
// FOLLOW.md).
const AlertRaised activity.Action = "ALERT_RAISED"

type alertRaised struct {
	AlertID       int64    `json:"alert_id"`
	RuleID        int64    `json:"rule_id"`
	RuleName      string   `json:"rule_name"`
	Kind          string   `json:"kind"`
	Summary       string   `json:"summary"`
	EvidenceCount int      `json:"evidence_count"`
	FirstAt       string   `json:"first_at"`
	LastAt        string   `json:"last_at"`
	EmailTo       []string `json:"email_to"`
	Link          string   `json:"link"`
}

// kindText names an alert rule's kind in words.
var kindText = map[string]string{
	"failed_logins":            "repeated failed logins",
	"after_hours_access":       "access outside business hours",
	"bulk_export":              "bulk data export",
	"large_correction":         "large stock correction",
	"after_hours_stock_change": "stock change outside business hours",
}

// queueAlerts puts one message per recipient of each ALERT_RAISED event
// into the outbox, inside tx (the consumer's transaction). Recipients are
// the rule's e-mail addresses and the workspace's standing recipients.
func queueAlerts(ctx context.Context, tx *store.Tx, cfg Config, ws int64, events []activity.Event, now time.Time) (int, error) {
	var standing []Recipient
	var wsInfo workspace.Workspace
	loaded := false
	queued := 0
	for _, ev := range events {
		if ev.Action != AlertRaised {
			continue
		}
		if !loaded {
			var err error
			if standing, err = recipients(ctx, tx, ws); err != nil {
				return queued, err
			}
			if wsInfo, err = workspace.Get(ctx, tx); err != nil {
				return queued, err
			}
			loaded = true
		}
		var a alertRaised
		raw, err := json.Marshal(ev.New)
		if err == nil {
			err = json.Unmarshal(raw, &a)
		}
		if err != nil {
			return queued, fmt.Errorf("alert event %d: %w", ev.ID, err)
		}
		subject, body := alertMessage(cfg, wsInfo, a)
		for _, to := range alertRecipients(a.EmailTo, standing) {
			id, err := enqueue(ctx, tx, ws, "alert", ev.ID, to, subject, body, now)
			if err != nil {
				return queued, err
			}
			if id != 0 {
				queued++
			}
		}
	}
	return queued, nil
}

// alertRecipients joins the rule's addresses and the standing ones, each
// once; an address that does not parse is left out (the rule's own form
// validates them, so this is a safety net, not a rule).
func alertRecipients(ruleTo []string, standing []Recipient) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		addr, err := ParseAddress(s)
		if err != nil || seen[strings.ToLower(addr)] {
			return
		}
		seen[strings.ToLower(addr)] = true
		out = append(out, addr)
	}
	for _, s := range ruleTo {
		add(s)
	}
	for _, r := range standing {
		add(r.Address)
	}
	return out
}

// alertMessage says in plain words what happened, with a link.
func alertMessage(cfg Config, ws workspace.Workspace, a alertRaised) (subject, body string) {
	name := a.RuleName
	if name == "" {
		name = kindText[a.Kind]
	}
	// One line whatever the names hold: a line break in a header is how
	// headers are forged.
	subject = strings.Join(strings.Fields(fmt.Sprintf("stocktrail alert: %s (%s)", name, ws.Name)), " ")
	loc := ws.Settings.Location()
	var b strings.Builder
	fmt.Fprintf(&b, "An alert was raised in the stocktrail workspace %q.\n\n", ws.Name)
	fmt.Fprintf(&b, "Rule: %s", name)
	if k, ok := kindText[a.Kind]; ok && k != name {
		fmt.Fprintf(&b, " (%s)", k)
	}
	b.WriteString("\n")
	if a.Summary != "" {
		fmt.Fprintf(&b, "What happened: %s\n", a.Summary)
	}
	if a.EvidenceCount > 0 {
		fmt.Fprintf(&b, "Evidence: %d %s", a.EvidenceCount, plural(a.EvidenceCount, "event", "events"))
		if first, last := localTime(a.FirstAt, loc), localTime(a.LastAt, loc); first != "" && last != "" {
			if first == last {
				fmt.Fprintf(&b, " at %s", first)
			} else {
				fmt.Fprintf(&b, " from %s to %s", first, last)
			}
		}
		b.WriteString("\n")
	}
	path := a.Link
	if path == "" || !strings.HasPrefix(path, "/") {
		path = fmt.Sprintf("/notifications/alerts/%d", a.AlertID)
	}
	link, complete := cfg.Link(path)
	fmt.Fprintf(&b, "\n%s\n\n", linkLine(link, complete))
	b.WriteString("An administrator of the workspace can acknowledge the alert there. You receive this e-mail because the rule, " +
		"or the workspace's e-mail settings (Configuration → Notifications → E-mail), name your address.\n")
	return subject, b.String()
}

func localTime(rfc3339 string, loc *time.Location) string {
	t, err := time.Parse(time.RFC3339Nano, rfc3339)
	if err != nil {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ConsumerName is the mail consumer's name in ledger.Follow's cursors.
const ConsumerName = "mail"

// Consume is the mail consumer of the sealed sequence (ledger.Follow with
// ConsumerName): it writes the outbox rows of each ALERT_RAISED event among
// entries with tx, the transaction that advances its cursor, so each alert
// is queued exactly once. When e-mail is not configured nothing is queued
// (the page says alerts are not mailed).
func Consume(cfg Config, now func() time.Time) func(ctx context.Context, tx *store.Tx, ws int64, entries []ledger.Sealed) error {
	return func(ctx context.Context, tx *store.Tx, ws int64, entries []ledger.Sealed) error {
		if !cfg.Configured() {
			return nil
		}
		var ids []int64
		for _, e := range entries {
			if e.Log == ledger.ActivityEvents {
				ids = append(ids, e.EntryID)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		events, err := activity.EventsByID(ctx, tx, ids)
		if err != nil {
			return err
		}
		_, err = queueAlerts(ctx, tx, cfg, ws, events, now())
		return err
	}
}
