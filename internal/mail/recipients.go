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
)

// Recipient is a workspace's standing recipient: it receives every alert
// e-mail, besides the addresses each alert rule names.
type Recipient struct {
	ID      int64
	Address string
	AddedBy string
	AddedAt time.Time
}

// MaxRecipients caps a workspace's standing recipients.
const MaxRecipients = 50

// Recipients lists the actor's workspace's standing recipients.
func Recipients(ctx context.Context, r store.Reader) ([]Recipient, error) {
	a, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return nil, err
	}
	return recipients(ctx, r.Read(), a.WorkspaceID)
}

func recipients(ctx context.Context, q store.Querier, ws int64) ([]Recipient, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, address, added_by, added_at FROM email_recipients
		WHERE workspace_id = $1 ORDER BY address`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Recipient
	for rows.Next() {
		var rc Recipient
		var at int64
		if err := rows.Scan(&rc.ID, &rc.Address, &rc.AddedBy, &at); err != nil {
			return nil, err
		}
		rc.AddedAt = store.Time(at)
		out = append(out, rc)
	}
	return out, rows.Err()
}

// AddRecipient adds a standing recipient (form field "address").
func AddRecipient(ctx context.Context, db *store.DB, address string) (Recipient, error) {
	a, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return Recipient{}, err
	}
	addr, err := ParseAddress(address)
	if err != nil {
		return Recipient{}, fieldError("address", "Recipient address", err.Error())
	}
	rc := Recipient{Address: addr, AddedBy: a.Name, AddedAt: time.Now().UTC()}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM email_recipients WHERE workspace_id = $1`, a.WorkspaceID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxRecipients {
			return fieldError("address", "Recipient address", fmt.Sprintf("a workspace has at most %d standing recipients", MaxRecipients))
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO email_recipients (workspace_id, address, added_by, added_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, a.WorkspaceID, addr, a.Name, store.Micros(rc.AddedAt)).Scan(&rc.ID)
		if store.IsUniqueViolation(err) {
			return fieldError("address", "Recipient address", addr+" is already a recipient")
		}
		if err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Configuration,
			EntityType: "email_recipients", EntityID: fmt.Sprint(rc.ID), New: map[string]any{"address": addr},
			Description: fmt.Sprintf("E-mail recipient %s added: receives every alert e-mail", addr)})
		return err
	})
	return rc, err
}

// RemoveRecipient removes a standing recipient.
func RemoveRecipient(ctx context.Context, db *store.DB, id int64) error {
	a, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		var addr string
		err := tx.QueryRowContext(ctx, `SELECT address FROM email_recipients WHERE workspace_id = $1 AND id = $2`+tx.ForUpdate(),
			a.WorkspaceID, id).Scan(&addr)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.New(fault.NotFound, "no such recipient")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM email_recipients WHERE workspace_id = $1 AND id = $2`, a.WorkspaceID, id); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Delete, Category: activity.Configuration,
			EntityType: "email_recipients", EntityID: fmt.Sprint(id), Old: map[string]any{"address": addr},
			Description: fmt.Sprintf("E-mail recipient %s removed", addr)})
		return err
	})
}

// fieldError is an Invalid error about one form field, its message led by
// the field's label (the form names the field itself).
func fieldError(field, label, message string) error {
	return &fault.Error{Kind: fault.Invalid, Message: label + ": " + message, Fields: map[string]string{field: message}}
}
