package assets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// DisposalMethod is how an asset left for good.
type DisposalMethod string

const (
	Sold           DisposalMethod = "sold"
	Scrapped       DisposalMethod = "scrapped"
	Donated        DisposalMethod = "donated"
	LostWrittenOff DisposalMethod = "lost_written_off"
)

// DisposalMethods lists every method in display order.
func DisposalMethods() []DisposalMethod {
	return []DisposalMethod{Sold, Scrapped, Donated, LostWrittenOff}
}

// Label is the method as people read it.
func (m DisposalMethod) Label() string {
	switch m {
	case Sold:
		return "Sold"
	case Scrapped:
		return "Scrapped"
	case Donated:
		return "Donated"
	case LostWrittenOff:
		return "Lost, written off"
	}
	return string(m)
}

// Valid reports whether m is a known method.
func (m DisposalMethod) Valid() bool {
	return slices.Contains(DisposalMethods(), m)
}

// LifecycleInput carries the reason for retiring, reinstating, deleting or
// restoring an asset (optional).
type LifecycleInput struct {
	Reason string `json:"reason"`
}

// DisposalInput is what disposing of an asset takes: the date it left
// (YYYY-MM-DD, not in the future), how and why.
type DisposalInput struct {
	Date   string         `json:"date"`
	Method DisposalMethod `json:"method"`
	Reason string         `json:"reason"`
}

const maxLifecycleReason = 1000

func checkReason(reason string, required bool) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "" && required:
		return "", fault.Field("reason", "say why, e.g. who bought it or why it was scrapped")
	case len(reason) > maxLifecycleReason:
		return "", fault.Field("reason", fmt.Sprintf("at most %d characters", maxLifecycleReason))
	}
	if err := plaintext.Check("reason", reason); err != nil {
		return "", fault.Field("reason", "use plain text, without control characters")
	}
	return reason, nil
}

// CheckDisposal validates a disposal without recording it, for a page's
// check-your-answers step: the same rules DisposeAsset applies.
func CheckDisposal(ctx context.Context, db *store.DB, id int64, in DisposalInput) (Asset, DisposalInput, error) {
	who, err := actor.Require(ctx, actor.ManageAssets)
	if err != nil {
		return Asset{}, in, err
	}
	a, err := GetAsset(ctx, db, id)
	if err != nil {
		return Asset{}, in, err
	}
	ws, err := workspace.Get(ctx, db)
	if err != nil {
		return Asset{}, in, err
	}
	if in, err = in.validate(time.Now().In(ws.Settings.Location())); err != nil {
		return a, in, err
	}
	return a, in, disposable(ctx, db.Read(), who.WorkspaceID, a)
}

func (in DisposalInput) validate(today time.Time) (DisposalInput, error) {
	f := fault.Fields{}
	in.Date = strings.TrimSpace(in.Date)
	d, err := time.Parse(time.DateOnly, in.Date)
	switch {
	case in.Date == "":
		f.Add("date", "enter the date it left, e.g. 2026-03-31")
	case err != nil:
		f.Add("date", "use YYYY-MM-DD, e.g. 2026-03-31")
	case d.After(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)):
		f.Add("date", "cannot be in the future")
	case d.Year() < 1900:
		f.Add("date", "enter a date after 1900")
	}
	if !in.Method.Valid() {
		f.Add("method", "choose sold, scrapped, donated or lost, written off")
	}
	reason, err := checkReason(in.Reason, true)
	if err != nil {
		f.Add("reason", err.(*fault.Error).Fields["reason"])
	}
	in.Reason = reason
	return in, f.Err()
}

// disposable refuses a disposal or deletion while the asset is on the list
// of a session In progress: its count would lose an expected asset midway.
func disposable(ctx context.Context, q store.Querier, workspaceID int64, a Asset) error {
	if err := refuseRemoved(a, "dispose of it"); err != nil {
		return err
	}
	return notOnLiveSession(ctx, q, workspaceID, a, "dispose of it")
}

func notOnLiveSession(ctx context.Context, q store.Querier, workspaceID int64, a Asset, doing string) error {
	var name string
	err := q.QueryRowContext(ctx, `SELECT s.name FROM inventory_session_items i
		JOIN inventory_sessions s ON s.workspace_id = i.workspace_id AND s.id = i.session_id
		WHERE i.workspace_id = $1 AND i.asset_id = $2 AND i.excluded_at IS NULL AND s.status = 'in_progress' ORDER BY s.id LIMIT 1`,
		workspaceID, a.ID).Scan(&name)
	if err == nil {
		return fault.New(fault.Conflict, "asset %s is on the list of session %q, which is in progress; exclude it there or finish the session before you %s",
			a.Tag, name, doing)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// DisposeAsset records that an asset left for good. The record is final:
// it stays readable with its history, its tag stays reserved, and it is
// never scanned into a session again.
func DisposeAsset(ctx context.Context, db *store.DB, id int64, in DisposalInput) (Asset, error) {
	who, err := actor.Require(ctx, actor.ManageAssets)
	if err != nil {
		return Asset{}, err
	}
	var out Asset
	err = db.InTx(ctx, func(tx *store.Tx) error {
		ws, err := workspace.Get(ctx, tx)
		if err != nil {
			return err
		}
		if in, err = in.validate(time.Now().In(ws.Settings.Location())); err != nil {
			return err
		}
		a, err := lockAsset(ctx, tx, who.WorkspaceID, id)
		if err != nil {
			return err
		}
		if err := disposable(ctx, tx, who.WorkspaceID, a); err != nil {
			return err
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE assets SET disposed_on = $1, disposal_method = $2, disposal_reason = $3, disposed_at = $4,
			disposed_by = $5, updated_at = $4 WHERE workspace_id = $6 AND id = $7`,
			in.Date, string(in.Method), in.Reason, store.Micros(now), who.Name, who.WorkspaceID, id); err != nil {
			return err
		}
		a.Disposal = &Disposal{On: in.Date, Method: in.Method, Reason: in.Reason, RecordedAt: now, RecordedBy: who.Name}
		a.UpdatedAt = now
		out = a
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "assets",
			EntityID: fmt.Sprint(id), Old: map[string]any{"disposed": false},
			New:         map[string]any{"disposed": true, "disposed_on": in.Date, "disposal_method": in.Method.Label(), "reason": in.Reason},
			Description: fmt.Sprintf("asset %s disposed of (%s on %s): %s", a.Tag, in.Method.Label(), in.Date, in.Reason)})
		return err
	})
	return out, err
}

// RetireAsset takes an asset out of service (status retired); ReinstateAsset
// brings it back.
func RetireAsset(ctx context.Context, db *store.DB, id int64, in LifecycleInput) (Asset, error) {
	return changeStatus(ctx, db, id, in, Retired)
}

// ReinstateAsset returns a retired asset to service (status active).
func ReinstateAsset(ctx context.Context, db *store.DB, id int64, in LifecycleInput) (Asset, error) {
	return changeStatus(ctx, db, id, in, Active)
}

func changeStatus(ctx context.Context, db *store.DB, id int64, in LifecycleInput, to Status) (Asset, error) {
	who, err := actor.Require(ctx, actor.ManageAssets)
	if err != nil {
		return Asset{}, err
	}
	reason, err := checkReason(in.Reason, false)
	if err != nil {
		return Asset{}, err
	}
	verb := map[Status]string{Retired: "retire it", Active: "reinstate it"}[to]
	var out Asset
	err = db.InTx(ctx, func(tx *store.Tx) error {
		a, err := lockAsset(ctx, tx, who.WorkspaceID, id)
		if err != nil {
			return err
		}
		if err := refuseRemoved(a, verb); err != nil {
			return err
		}
		switch {
		case to == Retired && a.Status == Retired:
			return fault.New(fault.Conflict, "asset %s is already retired", a.Tag)
		case to == Active && a.Status != Retired:
			return fault.New(fault.Conflict, "asset %s is %s, not retired; only a retired asset is reinstated", a.Tag, a.Status.Label())
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE assets SET status = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4`,
			string(to), store.Micros(now), who.WorkspaceID, id); err != nil {
			return err
		}
		from := a.Status
		a.Status, a.UpdatedAt = to, now
		out = a
		what := map[Status]string{Retired: "retired", Active: "reinstated"}[to]
		desc := "asset " + a.Tag + " " + what
		if reason != "" {
			desc += ": " + reason
		}
		ev := activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "assets", EntityID: fmt.Sprint(id),
			Old: map[string]any{"status": string(from)}, New: map[string]any{"status": string(to)}, Description: desc}
		if reason != "" {
			ev.New = map[string]any{"status": string(to), "reason": reason}
		}
		_, err = activity.Record(ctx, tx, ev)
		return err
	})
	return out, err
}

// DeleteAsset deletes an asset softly: it leaves the register (and new
// sessions and label sheets) but keeps its page, its history and its tag,
// and RestoreAsset brings it back. For assets entered by mistake; an asset
// that really left is disposed of instead.
func DeleteAsset(ctx context.Context, db *store.DB, id int64, in LifecycleInput) (Asset, error) {
	return setDeleted(ctx, db, id, in, true)
}

// RestoreAsset undoes DeleteAsset.
func RestoreAsset(ctx context.Context, db *store.DB, id int64, in LifecycleInput) (Asset, error) {
	return setDeleted(ctx, db, id, in, false)
}

// CheckDeletion tells whether DeleteAsset would accept, for a page's
// check-your-answers step.
func CheckDeletion(ctx context.Context, db *store.DB, id int64, in LifecycleInput) (Asset, error) {
	who, err := actor.Require(ctx, actor.ManageAssets)
	if err != nil {
		return Asset{}, err
	}
	a, err := GetAsset(ctx, db, id)
	if err != nil {
		return Asset{}, err
	}
	if _, err := checkReason(in.Reason, false); err != nil {
		return a, err
	}
	if a.Deleted != nil {
		return a, fault.New(fault.Conflict, "asset %s is already deleted", a.Tag)
	}
	return a, notOnLiveSession(ctx, db.Read(), who.WorkspaceID, a, "delete it")
}

func setDeleted(ctx context.Context, db *store.DB, id int64, in LifecycleInput, deleted bool) (Asset, error) {
	who, err := actor.Require(ctx, actor.ManageAssets)
	if err != nil {
		return Asset{}, err
	}
	reason, err := checkReason(in.Reason, false)
	if err != nil {
		return Asset{}, err
	}
	var out Asset
	err = db.InTx(ctx, func(tx *store.Tx) error {
		a, err := lockAsset(ctx, tx, who.WorkspaceID, id)
		if err != nil {
			return err
		}
		switch {
		case deleted && a.Deleted != nil:
			return fault.New(fault.Conflict, "asset %s is already deleted", a.Tag)
		case !deleted && a.Deleted == nil:
			return fault.New(fault.Conflict, "asset %s is not deleted", a.Tag)
		case deleted:
			if err := notOnLiveSession(ctx, tx, who.WorkspaceID, a, "delete it"); err != nil {
				return err
			}
		}
		now := time.Now().UTC()
		var at any
		by, action, what := "", activity.Update, "restored"
		if deleted {
			at, by, action, what = store.Micros(now), who.Name, activity.Delete, "deleted"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE assets SET deleted_at = $1, deleted_by = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5`,
			at, by, store.Micros(now), who.WorkspaceID, id); err != nil {
			return err
		}
		a.Deleted, a.UpdatedAt = nil, now
		if deleted {
			a.Deleted = &Deletion{At: now, By: who.Name}
		}
		out = a
		desc := "asset " + a.Tag + " " + what
		newValues := map[string]any{"deleted": deleted}
		if reason != "" {
			desc += ": " + reason
			newValues["reason"] = reason
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: action, Category: activity.Assets, EntityType: "assets", EntityID: fmt.Sprint(id),
			Old: map[string]any{"deleted": !deleted}, New: newValues, Description: desc})
		return err
	})
	return out, err
}
