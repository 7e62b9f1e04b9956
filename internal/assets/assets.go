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
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/qrlabel"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Status is where an asset stands in its life.
type Status string

const (
	Active   Status = "active"
	InUse    Status = "in_use"
	InRepair Status = "in_repair"
	Retired  Status = "retired"
	Lost     Status = "lost"
)

// Statuses lists every status in display order.
func Statuses() []Status { return []Status{Active, InUse, InRepair, Retired, Lost} }

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return slices.Contains(Statuses(), s)
}

// Condition is the physical state of an asset.
type Condition string

const (
	New    Condition = "new"
	Good   Condition = "good"
	Fair   Condition = "fair"
	Poor   Condition = "poor"
	Broken Condition = "broken"
)

// Conditions lists every condition from best to worst.
func Conditions() []Condition { return []Condition{New, Good, Fair, Poor, Broken} }

// Valid reports whether c is a known condition.
func (c Condition) Valid() bool {
	return slices.Contains(Conditions(), c)
}

// Asset is one tracked thing.
type Asset struct {
	ID           int64     `json:"id"`
	Tag          string    `json:"tag"`
	Name         string    `json:"name"`
	Category     string    `json:"category"`
	Status       Status    `json:"status"`
	Condition    Condition `json:"condition"`
	Assignee     string    `json:"assignee"`
	LocationID   int64     `json:"location_id,omitempty"`
	LocationPath string    `json:"location_path,omitempty"`
	Notes        string    `json:"notes"`
	// QRPayload is what the asset's label encodes.
	QRPayload string    `json:"qr_payload"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Disposal is set once the asset has left for good (sold, scrapped,
	// donated, lost and written off); the record is final from then on.
	Disposal *Disposal `json:"disposal,omitempty"`
	// Deleted is set while the asset is deleted: hidden from the register,
	// kept with its history and its tag, and restorable.
	Deleted *Deletion `json:"deleted,omitempty"`
}

// Disposal is how and when an asset left the register for good.
type Disposal struct {
	// On is the calendar date it left (YYYY-MM-DD), which may be before it
	// was recorded.
	On         string         `json:"on"`
	Method     DisposalMethod `json:"method"`
	Reason     string         `json:"reason"`
	RecordedAt time.Time      `json:"recorded_at"`
	RecordedBy string         `json:"recorded_by"`
}

// Deletion is when and by whom an asset was deleted.
type Deletion struct {
	At time.Time `json:"at"`
	By string    `json:"by"`
}

// Removed reports whether the asset is disposed or deleted: out of the
// register, of new sessions and of label sheets.
func (a Asset) Removed() bool { return a.Disposal != nil || a.Deleted != nil }

// State is the asset's standing as people read it: deleted and disposed
// come before the status they had.
func (a Asset) State() string {
	switch {
	case a.Deleted != nil:
		return "Deleted"
	case a.Disposal != nil:
		return "Disposed: " + a.Disposal.Method.Label()
	}
	return a.Status.Label()
}

// Label is the status as people read it.
func (s Status) Label() string {
	switch s {
	case Active:
		return "Active"
	case InUse:
		return "In use"
	case InRepair:
		return "In repair"
	case Retired:
		return "Retired"
	case Lost:
		return "Lost"
	}
	return string(s)
}

// values are the fields an activity event shows.
func (a Asset) values() map[string]any {
	return map[string]any{"tag": a.Tag, "name": a.Name, "category": a.Category, "status": string(a.Status),
		"condition": string(a.Condition), "assignee": a.Assignee, "location_id": a.LocationID, "notes": a.Notes}
}

// AssetInput creates or edits an asset. On edit, nil fields stay as they are.
type AssetInput struct {
	Tag        *string    `json:"tag"`
	Name       *string    `json:"name"`
	Category   *string    `json:"category"`
	Status     *Status    `json:"status"`
	Condition  *Condition `json:"condition"`
	Assignee   *string    `json:"assignee"`
	LocationID *int64     `json:"location_id"`
	Notes      *string    `json:"notes"`
}

// apply merges in into a and validates the result, naming bad fields.
func (in AssetInput) apply(ctx context.Context, q *store.Tx, workspaceID int64, a *Asset) error {
	f := fault.Fields{}
	if in.Tag != nil {
		a.Tag = strings.TrimSpace(*in.Tag)
	}
	if in.Name != nil {
		a.Name = strings.TrimSpace(*in.Name)
	}
	if in.Category != nil {
		a.Category = strings.TrimSpace(*in.Category)
	}
	if in.Status != nil {
		a.Status = *in.Status
	}
	if in.Condition != nil {
		a.Condition = *in.Condition
	}
	if in.Assignee != nil {
		a.Assignee = strings.TrimSpace(*in.Assignee)
	}
	if in.LocationID != nil {
		a.LocationID = *in.LocationID
	}
	if in.Notes != nil {
		a.Notes = strings.TrimSpace(*in.Notes)
	}
	if err := qrlabel.ValidTag(a.Tag); err != nil {
		f.Add("tag", "1–64 letters, digits, '.', '_', '-' or '/'; it is printed in the QR code")
	}
	if a.Name == "" {
		f.Add("name", "required")
	} else if err := plaintext.Line("name", a.Name); err != nil {
		f.Add("name", err.(*fault.Error).Fields["name"])
	} else if len(a.Name) > 200 {
		f.Add("name", "at most 200 characters")
	}
	if len(a.Category) > 100 {
		f.Add("category", "at most 100 characters")
	}
	if !a.Status.Valid() {
		f.Add("status", "must be active, in_use, in_repair, retired or lost")
	}
	if !a.Condition.Valid() {
		f.Add("condition", "must be new, good, fair, poor or broken")
	}
	if len(a.Assignee) > 200 {
		f.Add("assignee", "at most 200 characters")
	}
	if len(a.Notes) > 4000 {
		f.Add("notes", "at most 4000 characters")
	}
	if a.LocationID < 0 {
		f.Add("location_id", "must be a location id")
	} else if a.LocationID > 0 {
		loc, err := inventory.GetLocation(ctx, q, a.LocationID)
		switch {
		case fault.Is(err, fault.NotFound):
			f.Add("location_id", "no such location")
		case err != nil:
			return err
		default:
			a.LocationPath = loc.Path
		}
	} else {
		a.LocationPath = ""
	}
	return f.Err()
}

// CreateAsset adds an asset to the register.
func CreateAsset(ctx context.Context, db *store.DB, in AssetInput) (Asset, error) {
	who, err := actor.Require(ctx, actor.ManageAssets)
	if err != nil {
		return Asset{}, err
	}
	var out Asset
	err = db.InTx(ctx, func(tx *store.Tx) error {
		out, err = createAsset(ctx, tx, who, in)
		return err
	})
	return out, err
}

func createAsset(ctx context.Context, tx *store.Tx, who actor.Actor, in AssetInput) (Asset, error) {
	a := Asset{Status: Active, Condition: Good}
	if err := in.apply(ctx, tx, who.WorkspaceID, &a); err != nil {
		return Asset{}, err
	}
	if err := tagFree(ctx, tx, who.WorkspaceID, a.Tag, 0); err != nil {
		return Asset{}, err
	}
	now := time.Now().UTC()
	a.CreatedAt, a.UpdatedAt = now, now
	err := tx.QueryRowContext(ctx, `INSERT INTO assets (workspace_id, tag, name, category, status, condition, assignee, location_id, notes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
		who.WorkspaceID, a.Tag, a.Name, a.Category, string(a.Status), string(a.Condition), a.Assignee, nullID(a.LocationID), a.Notes,
		store.Micros(now)).Scan(&a.ID)
	if store.IsUniqueViolation(err) {
		return Asset{}, tagInUse(a.Tag)
	}
	if err != nil {
		return Asset{}, err
	}
	a.QRPayload = qrlabel.Payload(who.WorkspaceID, a.Tag)
	_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Assets, EntityType: "assets",
		EntityID: fmt.Sprint(a.ID), New: a.values(), Description: "asset " + a.Tag + " created"})
	return a, err
}

// UpdateAsset edits an asset and records what changed.
func UpdateAsset(ctx context.Context, db *store.DB, id int64, in AssetInput) (Asset, error) {
	who, err := actor.Require(ctx, actor.ManageAssets)
	if err != nil {
		return Asset{}, err
	}
	var out Asset
	err = db.InTx(ctx, func(tx *store.Tx) error {
		old, err := lockAsset(ctx, tx, who.WorkspaceID, id)
		if err != nil {
			return err
		}
		if err := refuseRemoved(old, "edit it"); err != nil {
			return err
		}
		a := old
		if err := in.apply(ctx, tx, who.WorkspaceID, &a); err != nil {
			return err
		}
		if a.Tag != old.Tag {
			if err := tagFree(ctx, tx, who.WorkspaceID, a.Tag, id); err != nil {
				return err
			}
		}
		before, after := activity.Changes(old.values(), a.values())
		out = a
		if len(after) == 0 {
			return nil
		}
		a.UpdatedAt = time.Now().UTC()
		_, err = tx.ExecContext(ctx, `UPDATE assets SET tag = $1, name = $2, category = $3, status = $4, condition = $5, assignee = $6,
			location_id = $7, notes = $8, updated_at = $9 WHERE workspace_id = $10 AND id = $11`,
			a.Tag, a.Name, a.Category, string(a.Status), string(a.Condition), a.Assignee, nullID(a.LocationID), a.Notes,
			store.Micros(a.UpdatedAt), who.WorkspaceID, id)
		if store.IsUniqueViolation(err) {
			return tagInUse(a.Tag)
		}
		if err != nil {
			return err
		}
		a.QRPayload = qrlabel.Payload(who.WorkspaceID, a.Tag)
		out = a
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "assets",
			EntityID: fmt.Sprint(id), Old: before, New: after, Description: "asset " + a.Tag + " edited"})
		return err
	})
	return out, err
}

// tagFree refuses a tag another asset holds, saying which. Tags of deleted
// and disposed assets stay reserved: a label printed for the old asset may
// still be stuck on something, and a scan of it must never count another.
// (The unique index is the last word; this check names the holder, which a
// failed statement on PostgreSQL could no longer look up.)
func tagFree(ctx context.Context, q store.Querier, workspaceID int64, tag string, self int64) error {
	var id int64
	var deleted, disposed sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT id, deleted_at, disposed_at FROM assets WHERE workspace_id = $1 AND tag = $2`, workspaceID, tag).
		Scan(&id, &deleted, &disposed)
	switch {
	case errors.Is(err, sql.ErrNoRows) || err == nil && id == self:
		return nil
	case err != nil:
		return err
	case deleted.Valid:
		return &fault.Error{Kind: fault.Conflict,
			Message: fmt.Sprintf("tag %s belongs to a deleted asset (number %d); restore that asset, or choose another tag", tag, id),
			Fields:  map[string]string{"tag": "belongs to a deleted asset; tags are never reused"}}
	case disposed.Valid:
		return &fault.Error{Kind: fault.Conflict,
			Message: fmt.Sprintf("tag %s belongs to a disposed asset (number %d); choose another tag", tag, id),
			Fields:  map[string]string{"tag": "belongs to a disposed asset; tags are never reused"}}
	}
	return tagInUse(tag)
}

func tagInUse(tag string) error {
	return &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("an asset with tag %s already exists", tag),
		Fields: map[string]string{"tag": "already used in this workspace"}}
}

// refuseRemoved refuses work on a deleted or disposed asset.
func refuseRemoved(a Asset, doing string) error {
	switch {
	case a.Deleted != nil:
		return fault.New(fault.Conflict, "asset %s is deleted; restore it before you %s", a.Tag, doing)
	case a.Disposal != nil:
		return fault.New(fault.Conflict, "asset %s was disposed of on %s (%s); its record is final, so you cannot %s",
			a.Tag, a.Disposal.On, a.Disposal.Method.Label(), doing)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const assetColumns = `a.id, a.tag, a.name, a.category, a.status, a.condition, a.assignee, COALESCE(a.location_id, 0),
	COALESCE(l.path, ''), a.notes, a.created_at, a.updated_at, COALESCE(a.disposed_on, ''), COALESCE(a.disposal_method, ''),
	a.disposal_reason, a.disposed_at, a.disposed_by, a.deleted_at, a.deleted_by`

const assetFrom = ` FROM assets a LEFT JOIN locations l ON l.workspace_id = a.workspace_id AND l.id = a.location_id`

func scanAsset(row interface{ Scan(...any) error }, workspaceID int64) (Asset, error) {
	var a Asset
	var created, updated int64
	var disposal Disposal
	var deletion Deletion
	var disposedAt, deletedAt sql.NullInt64
	if err := row.Scan(&a.ID, &a.Tag, &a.Name, &a.Category, &a.Status, &a.Condition, &a.Assignee, &a.LocationID,
		&a.LocationPath, &a.Notes, &created, &updated, &disposal.On, &disposal.Method, &disposal.Reason, &disposedAt, &disposal.RecordedBy,
		&deletedAt, &deletion.By); err != nil {
		return Asset{}, err
	}
	a.CreatedAt, a.UpdatedAt = store.Time(created), store.Time(updated)
	if disposedAt.Valid {
		disposal.RecordedAt = store.Time(disposedAt.Int64)
		a.Disposal = &disposal
	}
	if deletedAt.Valid {
		deletion.At = store.Time(deletedAt.Int64)
		a.Deleted = &deletion
	}
	a.QRPayload = qrlabel.Payload(workspaceID, a.Tag)
	return a, nil
}

func getAsset(ctx context.Context, q store.Querier, workspaceID, id int64) (Asset, error) {
	return queryAsset(ctx, q, workspaceID, id, "")
}

// lockAsset reads one asset and locks its row until tx ends, so that a
// concurrent edit waits instead of overwriting.
func lockAsset(ctx context.Context, tx *store.Tx, workspaceID, id int64) (Asset, error) {
	return queryAsset(ctx, tx, workspaceID, id, tx.ForUpdate("a"))
}

func queryAsset(ctx context.Context, q store.Querier, workspaceID, id int64, lock string) (Asset, error) {
	a, err := scanAsset(q.QueryRowContext(ctx, `SELECT `+assetColumns+assetFrom+` WHERE a.workspace_id = $1 AND a.id = $2`+lock, workspaceID, id), workspaceID)
	return a, store.NotFound(err, "asset")
}

// GetAsset returns one asset of the actor's workspace.
func GetAsset(ctx context.Context, db *store.DB, id int64) (Asset, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return Asset{}, err
	}
	return getAsset(ctx, db.Read(), who.WorkspaceID, id)
}

// GetAssetByTag returns the asset with the given tag.
func GetAssetByTag(ctx context.Context, db *store.DB, tag string) (Asset, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return Asset{}, err
	}
	a, err := scanAsset(db.Read().QueryRowContext(ctx, `SELECT `+assetColumns+assetFrom+` WHERE a.workspace_id = $1 AND a.tag = $2`,
		who.WorkspaceID, tag), who.WorkspaceID)
	return a, store.NotFound(err, "asset with tag "+tag)
}

// AssetFilter narrows a list of assets. Zero values do not filter.
type AssetFilter struct {
	// Search matches tag, name, assignee or category (case-insensitive).
	Search    string
	Status    Status
	Condition Condition
	Category  string
	// LocationID keeps assets at that location or below it.
	LocationID int64
	// Show chooses between the register ("" or ShowCurrent), deleted and
	// disposed assets only (ShowRemoved), or both (ShowAll).
	Show   string
	Limit  int
	Offset int
}

// Values of AssetFilter.Show.
const (
	ShowCurrent = "current"
	ShowRemoved = "removed"
	ShowAll     = "all"
)

// ListAssets returns the assets matching f, by tag, and the total matched.
func ListAssets(ctx context.Context, db *store.DB, f AssetFilter) ([]Asset, int, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return nil, 0, err
	}
	fields := fault.Fields{}
	if f.Status != "" && !f.Status.Valid() {
		fields.Add("status", "unknown status")
	}
	if f.Condition != "" && !f.Condition.Valid() {
		fields.Add("condition", "unknown condition")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	if f.Offset < 0 {
		fields.Add("offset", "must not be negative")
	}
	switch f.Show {
	case "", ShowCurrent, ShowRemoved, ShowAll:
	default:
		fields.Add("show", "must be current, removed or all")
	}
	if err := fields.Err(); err != nil {
		return nil, 0, err
	}
	w := store.NewWhere(`a.workspace_id = ?`, who.WorkspaceID)
	switch f.Show {
	case "", ShowCurrent:
		w.And(`a.deleted_at IS NULL AND a.disposed_at IS NULL`)
	case ShowRemoved:
		w.And(`(a.deleted_at IS NOT NULL OR a.disposed_at IS NOT NULL)`)
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		p := w.Add("%" + store.EscapeLike(strings.ToLower(s)) + "%")
		w.And(`(LOWER(a.tag) LIKE ` + p + ` ESCAPE '\' OR LOWER(a.name) LIKE ` + p + ` ESCAPE '\' OR LOWER(a.assignee) LIKE ` + p +
			` ESCAPE '\' OR LOWER(a.category) LIKE ` + p + ` ESCAPE '\')`)
	}
	if f.Status != "" {
		w.And(`a.status = ?`, string(f.Status))
	}
	if f.Condition != "" {
		w.And(`a.condition = ?`, string(f.Condition))
	}
	if f.Category != "" {
		w.And(`a.category = ?`, f.Category)
	}
	if f.LocationID > 0 {
		loc, err := inventory.GetLocation(ctx, db, f.LocationID)
		if err != nil {
			return nil, 0, err
		}
		w.And(`(l.id = ? OR l.path LIKE ? ESCAPE '\')`, loc.ID, store.EscapeLike(loc.Path)+"/%")
	}
	var total int
	if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*)`+assetFrom+` WHERE `+w.String(), w.Args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	query := `SELECT ` + assetColumns + assetFrom + ` WHERE ` + w.String() + ` ORDER BY a.tag LIMIT ` + w.Add(f.Limit) + ` OFFSET ` + w.Add(f.Offset)
	rows, err := db.Read().QueryContext(ctx, query, w.Args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Asset
	for rows.Next() {
		a, err := scanAsset(rows, who.WorkspaceID)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// ListCategories returns the categories in use, for filter menus.
func ListCategories(ctx context.Context, db *store.DB) ([]string, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return nil, err
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT DISTINCT category FROM assets WHERE workspace_id = $1 AND category <> '' ORDER BY category`, who.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SessionVisit is one session an asset was on, for its history.
type SessionVisit struct {
	SessionID   int64         `json:"session_id"`
	SessionName string        `json:"session_name"`
	Status      SessionStatus `json:"status"`
	Found       bool          `json:"found"`
	Excluded    bool          `json:"excluded"`
	ScannedAt   *time.Time    `json:"scanned_at,omitempty"`
	ScannedBy   string        `json:"scanned_by,omitempty"`
	Applied     string        `json:"applied_changes,omitempty"`
	// AppliedChanges is Applied in words, locations by path.
	AppliedChanges []activity.FieldChange `json:"-"`
	StartedAt      *time.Time             `json:"started_at,omitempty"`
	FinishedAt     *time.Time             `json:"finished_at,omitempty"`
}

// History is an asset's past: its recorded changes and the sessions it was on.
type History struct {
	Changes []activity.Event `json:"changes"`
	// Readable is Changes as a person reads them: locations by path,
	// fields in words.
	Readable []activity.Readable `json:"-"`
	Sessions []SessionVisit      `json:"sessions"`
}

// GetAssetHistory returns the history of one asset.
func GetAssetHistory(ctx context.Context, db *store.DB, id int64) (History, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return History{}, err
	}
	if _, err := getAsset(ctx, db.Read(), who.WorkspaceID, id); err != nil {
		return History{}, err
	}
	var h History
	if h.Changes, err = activity.ForEntity(ctx, db, "assets", fmt.Sprint(id), 200); err != nil {
		return History{}, err
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT s.id, s.name, s.status, i.scanned_at, i.scanned_by, i.excluded_at, COALESCE(i.applied_changes, ''),
		s.started_at, s.finished_at
		FROM inventory_session_items i JOIN inventory_sessions s ON s.workspace_id = i.workspace_id AND s.id = i.session_id
		WHERE i.workspace_id = $1 AND i.asset_id = $2 ORDER BY s.id DESC`, who.WorkspaceID, id)
	if err != nil {
		return History{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var v SessionVisit
		var scanned, excluded, started, finished sql.NullInt64
		if err := rows.Scan(&v.SessionID, &v.SessionName, &v.Status, &scanned, &v.ScannedBy, &excluded, &v.Applied, &started, &finished); err != nil {
			return History{}, err
		}
		v.Found, v.Excluded = scanned.Valid, excluded.Valid
		v.ScannedAt, v.StartedAt, v.FinishedAt = timePtr(scanned), timePtr(started), timePtr(finished)
		h.Sessions = append(h.Sessions, v)
	}
	if err := rows.Err(); err != nil {
		return History{}, err
	}
	names, err := activity.LookUpNames(ctx, db, h.Changes)
	if err != nil {
		return History{}, err
	}
	h.Readable = names.ReadableAll(h.Changes)
	applied := make([]string, len(h.Sessions))
	for i, v := range h.Sessions {
		applied[i] = v.Applied
	}
	named, err := nameApplied(ctx, db, applied)
	if err != nil {
		return History{}, err
	}
	for i := range h.Sessions {
		h.Sessions[i].AppliedChanges = named[i]
	}
	return h, nil
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := store.Time(v.Int64)
	return &t
}

// Label is what the asset's printed label shows and encodes.
func (a Asset) Label(workspaceID int64) qrlabel.Label {
	return qrlabel.Label{WorkspaceID: workspaceID, Tag: a.Tag, Name: a.Name, Location: a.LocationPath}
}

// MaxLabelsPerSheet bounds one PDF of labels. Sheets are written page by
// page (qrlabel.Sheet), so the bound is how long a print run should be,
// not memory.
const MaxLabelsPerSheet = qrlabel.MaxSheetLabels

// ListLabels returns the labels of the given assets (in the order given), or of
// every asset matching f when ids is empty.
func ListLabels(ctx context.Context, db *store.DB, ids []int64, f AssetFilter) ([]qrlabel.Label, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return nil, err
	}
	if len(ids) > MaxLabelsPerSheet {
		return nil, fault.New(fault.Invalid, "at most %d labels at once", MaxLabelsPerSheet)
	}
	var out []qrlabel.Label
	if len(ids) == 0 {
		f.Show = ShowCurrent // deleted and disposed assets get no new labels
		for f.Offset = 0; ; f.Offset += 500 {
			f.Limit = 500
			list, total, err := ListAssets(ctx, db, f)
			if err != nil {
				return nil, err
			}
			if total > MaxLabelsPerSheet {
				return nil, fault.New(fault.Invalid, "%d assets match; print at most %d labels at once", total, MaxLabelsPerSheet)
			}
			for _, a := range list {
				out = append(out, a.Label(who.WorkspaceID))
			}
			if len(list) < 500 {
				break
			}
		}
	} else {
		for _, id := range ids {
			a, err := getAsset(ctx, db.Read(), who.WorkspaceID, id)
			if err != nil {
				return nil, err
			}
			if err := refuseRemoved(a, "print its label"); err != nil {
				return nil, err
			}
			out = append(out, a.Label(who.WorkspaceID))
		}
	}
	if len(out) == 0 {
		return nil, fault.New(fault.Invalid, "no assets to print labels for")
	}
	return out, nil
}
