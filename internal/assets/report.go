package assets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/export"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// Item is one asset on a session's list, with its values at snapshot time.
type Item struct {
	AssetID      int64      `json:"asset_id"`
	Origin       string     `json:"origin"`
	Tag          string     `json:"tag"`
	Name         string     `json:"name"`
	Status       Status     `json:"status"`
	Condition    Condition  `json:"condition"`
	Assignee     string     `json:"assignee"`
	LocationPath string     `json:"location_path,omitempty"`
	Excluded     bool       `json:"excluded"`
	ScannedAt    *time.Time `json:"scanned_at,omitempty"`
	ScannedBy    string     `json:"scanned_by,omitempty"`
	ScanMethod   string     `json:"scan_method,omitempty"`
	// Staged* are the changes waiting for the finish; empty when none.
	StagedCondition    string  `json:"staged_condition,omitempty"`
	StagedAssignee     *string `json:"staged_assignee,omitempty"`
	StagedLocationPath string  `json:"staged_location_path,omitempty"`
	StagedComment      string  `json:"staged_comment,omitempty"`
	StagedPhotos       int     `json:"staged_photos"`
	// AppliedChanges is the JSON of what the finish changed.
	AppliedChanges string `json:"applied_changes,omitempty"`
	// Applied is AppliedChanges in words: each field with its new value,
	// locations by path.
	Applied []activity.FieldChange `json:"-"`
}

// Found reports whether the item was scanned or checked.
func (it Item) Found() bool { return it.ScannedAt != nil }

// HasStaged reports whether changes wait for the finish.
func (it Item) HasStaged() bool {
	return it.StagedCondition != "" || it.StagedAssignee != nil || it.StagedLocationPath != "" || it.StagedComment != "" || it.StagedPhotos > 0
}

// ListSessionItems returns a session's list (excluded rows included, marked), by tag.
func ListSessionItems(ctx context.Context, db *store.DB, sessionID int64) ([]Item, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return nil, err
	}
	return querySessionItems(ctx, db, store.NewWhere(`i.workspace_id = ? AND i.session_id = ?`, who.WorkspaceID, sessionID), 0)
}

// Item states a session's list is filtered by.
const (
	ItemsScanned    = "scanned"
	ItemsNotScanned = "not_scanned"
	ItemsStaged     = "staged"
	ItemsExcluded   = "excluded"
)

// ItemQuery asks for one page of a session's list: rows in a state
// (ItemsScanned, …; "" for all), whose tag or name contains Search, after
// the row of asset After (0: from the start), at most Limit of them.
type ItemQuery struct {
	State  string
	Search string
	After  int64
	Limit  int
}

// ItemPage is one page of a session's list, by tag. Next is the After of the
// following page, 0 on the last.
type ItemPage struct {
	Items []Item `json:"items"`
	Next  int64  `json:"next_after,omitempty"`
}

// MaxItemsPerPage bounds one page of a session's list.
const MaxItemsPerPage = 1000

// ListSessionItemsPage returns one page of a session's list. Pages are
// keyset pages on (tag, asset id), served by an index, so the last page of
// a session of 100,000 assets costs what the first does.
func ListSessionItemsPage(ctx context.Context, db *store.DB, sessionID int64, q ItemQuery) (ItemPage, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return ItemPage{}, err
	}
	f := fault.Fields{}
	if q.Limit <= 0 {
		q.Limit = 100
	} else if q.Limit > MaxItemsPerPage {
		f.Add("limit", fmt.Sprintf("at most %d", MaxItemsPerPage))
	}
	if q.After < 0 {
		f.Add("after", "must be an asset id from the previous page")
	}
	w := store.NewWhere(`i.workspace_id = ? AND i.session_id = ?`, who.WorkspaceID, sessionID)
	switch q.State {
	case "":
	case ItemsScanned:
		w.And(`i.scanned_at IS NOT NULL AND i.excluded_at IS NULL`)
	case ItemsNotScanned:
		w.And(`i.scanned_at IS NULL AND i.excluded_at IS NULL`)
	case ItemsExcluded:
		w.And(`i.excluded_at IS NOT NULL`)
	case ItemsStaged:
		w.And(`i.excluded_at IS NULL AND (i.staged_condition IS NOT NULL OR i.staged_assignee IS NOT NULL OR i.staged_location_id IS NOT NULL
			OR i.staged_comment IS NOT NULL OR EXISTS (SELECT 1 FROM asset_photos p WHERE p.workspace_id = i.workspace_id AND p.session_id = i.session_id
			AND p.asset_id = i.asset_id))`)
	default:
		f.Add("state", "must be scanned, not_scanned, staged or excluded")
	}
	if err := f.Err(); err != nil {
		return ItemPage{}, err
	}
	if s := strings.TrimSpace(q.Search); s != "" {
		p := w.Add("%" + store.EscapeLike(strings.ToLower(s)) + "%")
		w.And(`(LOWER(i.tag) LIKE ` + p + ` ESCAPE '\' OR LOWER(i.name) LIKE ` + p + ` ESCAPE '\')`)
	}
	if q.After > 0 {
		var tag string
		err := db.Read().QueryRowContext(ctx, `SELECT tag FROM inventory_session_items WHERE workspace_id = $1 AND session_id = $2 AND asset_id = $3`,
			who.WorkspaceID, sessionID, q.After).Scan(&tag)
		if errors.Is(err, sql.ErrNoRows) {
			return ItemPage{}, fault.Field("after", "not an asset of this session's list")
		}
		if err != nil {
			return ItemPage{}, err
		}
		w.And(`(i.tag > ? OR (i.tag = ? AND i.asset_id > ?))`, tag, tag, q.After)
	}
	items, err := querySessionItems(ctx, db, w, q.Limit+1)
	if err != nil {
		return ItemPage{}, err
	}
	page := ItemPage{Items: items}
	if len(items) > q.Limit {
		page.Items = items[:q.Limit]
		page.Next = page.Items[q.Limit-1].AssetID
	}
	if page.Items == nil {
		page.Items = []Item{}
	}
	return page, nil
}

// GetSessionItem returns one row of a session's list.
func GetSessionItem(ctx context.Context, db *store.DB, sessionID, assetID int64) (Item, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return Item{}, err
	}
	items, err := querySessionItems(ctx, db, store.NewWhere(`i.workspace_id = ? AND i.session_id = ? AND i.asset_id = ?`,
		who.WorkspaceID, sessionID, assetID), 1)
	if err != nil {
		return Item{}, err
	}
	if len(items) == 0 {
		return Item{}, fault.New(fault.NotFound, "that asset is not on this session's list")
	}
	return items[0], nil
}

// querySessionItems reads the rows of a session's list that w selects, by
// tag then asset id, at most limit (0: all), with applied changes in words.
func querySessionItems(ctx context.Context, db *store.DB, w *store.Where, limit int) ([]Item, error) {
	query := `SELECT i.asset_id, i.origin, i.tag, i.name, i.status, i.condition, i.assignee, COALESCE(l.path, ''),
		i.excluded_at IS NOT NULL, i.scanned_at, i.scanned_by, i.scan_method, COALESCE(i.staged_condition, ''), i.staged_assignee,
		COALESCE(sl.path, ''), COALESCE(i.staged_comment, ''), COALESCE(i.applied_changes, ''),
		(SELECT COUNT(*) FROM asset_photos p WHERE p.workspace_id = i.workspace_id AND p.session_id = i.session_id AND p.asset_id = i.asset_id)
		FROM inventory_session_items i
		LEFT JOIN locations l ON l.workspace_id = i.workspace_id AND l.id = i.location_id
		LEFT JOIN locations sl ON sl.workspace_id = i.workspace_id AND sl.id = i.staged_location_id
		WHERE ` + w.String() + ` ORDER BY i.tag, i.asset_id`
	if limit > 0 {
		query += ` LIMIT ` + w.Add(limit)
	}
	rows, err := db.Read().QueryContext(ctx, query, w.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var scanned sql.NullInt64
		var assignee sql.NullString
		if err := rows.Scan(&it.AssetID, &it.Origin, &it.Tag, &it.Name, &it.Status, &it.Condition, &it.Assignee, &it.LocationPath,
			&it.Excluded, &scanned, &it.ScannedBy, &it.ScanMethod, &it.StagedCondition, &assignee, &it.StagedLocationPath,
			&it.StagedComment, &it.AppliedChanges, &it.StagedPhotos); err != nil {
			return nil, err
		}
		it.ScannedAt = timePtr(scanned)
		if assignee.Valid {
			it.StagedAssignee = &assignee.String
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	applied := make([]string, len(out))
	for i, it := range out {
		applied[i] = it.AppliedChanges
	}
	named, err := nameApplied(ctx, db, applied)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Applied = named[i]
	}
	return out, nil
}

// nameApplied reads the JSON of changes a finish applied (one per asset,
// "" for none) as field changes in words, with locations by path: what a
// person reads on the session, the asset page and the session's CSV.
func nameApplied(ctx context.Context, db *store.DB, applied []string) ([][]activity.FieldChange, error) {
	events := make([]activity.Event, len(applied))
	for i, raw := range applied {
		events[i] = activity.Event{EntityType: "assets"}
		if raw != "" {
			events[i].New = json.RawMessage(raw)
		}
	}
	names, err := activity.LookUpNames(ctx, db, events)
	if err != nil {
		return nil, err
	}
	out := make([][]activity.FieldChange, len(applied))
	for i, ev := range events {
		if ev.New != nil {
			out[i] = names.Changes(ev)
		}
	}
	return out, nil
}

// UnexpectedScan is an asset scanned in a session whose list did not have it.
type UnexpectedScan struct {
	AssetID   int64     `json:"asset_id"`
	Tag       string    `json:"tag"`
	Name      string    `json:"name"`
	ScannedAt time.Time `json:"scanned_at"`
	ScannedBy string    `json:"scanned_by"`
	// Included says the asset was included afterwards.
	Included bool `json:"included"`
}

// ListUnexpectedScans returns the assets scanned but not expected, first scan each.
func ListUnexpectedScans(ctx context.Context, db *store.DB, sessionID int64) ([]UnexpectedScan, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return nil, err
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT s.asset_id, a.tag, a.name, MIN(s.scanned_at), MIN(s.scanned_by),
		(SELECT COUNT(*) FROM inventory_session_items i WHERE i.workspace_id = s.workspace_id AND i.session_id = s.session_id AND i.asset_id = s.asset_id AND i.excluded_at IS NULL)
		FROM inventory_scans s JOIN assets a ON a.workspace_id = s.workspace_id AND a.id = s.asset_id
		WHERE s.workspace_id = $1 AND s.session_id = $2 AND s.outcome = 'unexpected'
		GROUP BY s.workspace_id, s.session_id, s.asset_id, a.tag, a.name ORDER BY a.tag`, who.WorkspaceID, sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UnexpectedScan
	for rows.Next() {
		var u UnexpectedScan
		var at int64
		var listed int
		if err := rows.Scan(&u.AssetID, &u.Tag, &u.Name, &at, &u.ScannedBy, &listed); err != nil {
			return nil, err
		}
		u.ScannedAt, u.Included = store.Time(at), listed > 0
		out = append(out, u)
	}
	return out, rows.Err()
}

// Report is a session's summary: every expected asset found or missing,
// who scanned it and when, the changes applied, and the unexpected assets.
type Report struct {
	Session    Session          `json:"session"`
	Items      []Item           `json:"items"`
	Unexpected []UnexpectedScan `json:"unexpected"`
	Found      int              `json:"found"`
	Missing    int              `json:"missing"`
}

// GetSessionReport builds the summary of a session.
func GetSessionReport(ctx context.Context, db *store.DB, sessionID int64) (Report, error) {
	if _, err := actor.Require(ctx, actor.ViewAssets); err != nil {
		return Report{}, err
	}
	s, err := GetSession(ctx, db, sessionID)
	if err != nil {
		return Report{}, err
	}
	r := Report{Session: s}
	if r.Items, err = ListSessionItems(ctx, db, sessionID); err != nil {
		return Report{}, err
	}
	if r.Unexpected, err = ListUnexpectedScans(ctx, db, sessionID); err != nil {
		return Report{}, err
	}
	for _, it := range r.Items {
		switch {
		case it.Excluded:
		case it.Found():
			r.Found++
		default:
			r.Missing++
		}
	}
	return r, nil
}

// WriteSessionReportCSV writes the summary as CSV, one row per asset, and
// returns a safe file name to download it as. The API and the web pages
// both serve this, so the two downloads are the same file.
func WriteSessionReportCSV(ctx context.Context, db *store.DB, sessionID int64, w io.Writer) (fileName string, err error) {
	_, err = actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return "", err
	}
	r, err := GetSessionReport(ctx, db, sessionID)
	if err != nil {
		return "", err
	}
	ws, err := workspace.Get(ctx, db)
	if err != nil {
		return "", err
	}
	// Downloading a report is itself recorded: exports are what auditors ask
	// about ("who took the list of missing laptops out, and when").
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		_, err := activity.Record(ctx, tx, activity.Event{Action: activity.Export, Category: activity.Assets, EntityType: "inventory_sessions",
			EntityID: fmt.Sprint(sessionID), New: map[string]any{"format": "csv", "rows": len(r.Items)},
			Description: "inventory session " + r.Session.Name + " report downloaded as CSV"})
		return err
	}); err != nil {
		return "", err
	}
	cols := []export.Column{
		{Title: "Tag", Kind: export.Text}, {Title: "Name", Kind: export.Text}, {Title: "Result", Kind: export.Text},
		{Title: "Location at start", Kind: export.Text}, {Title: "Scanned by", Kind: export.Text}, {Title: "Scanned at", Kind: export.Time},
		{Title: "Method", Kind: export.Text}, {Title: "Changes applied", Kind: export.Text},
	}
	cw, err := export.NewCSV(w, cols, ws.Settings.Location())
	if err != nil {
		return "", err
	}
	for _, it := range r.Items {
		result := "missing"
		switch {
		case it.Excluded:
			result = "excluded"
		case it.Found():
			result = "found"
		}
		var at any
		if it.ScannedAt != nil {
			at = *it.ScannedAt
		}
		changes := activity.ChangesText(it.Applied, "; ")
		if changes == "" && r.Session.Status != Completed && it.HasStaged() {
			changes = "(staged, not applied yet)"
		}
		if err := cw.WriteRow([]any{it.Tag, it.Name, result, it.LocationPath, it.ScannedBy, at, it.ScanMethod, changes}); err != nil {
			return "", err
		}
	}
	for _, u := range r.Unexpected {
		if u.Included {
			continue
		}
		if err := cw.WriteRow([]any{u.Tag, u.Name, "unexpected", "", u.ScannedBy, u.ScannedAt, "scan", ""}); err != nil {
			return "", err
		}
	}
	if err := cw.Close(); err != nil {
		return "", err
	}
	return reportFileName(r.Session), nil
}

// reportFileName is a safe download name for a session's CSV.
func reportFileName(s Session) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s.Name)
	return fmt.Sprintf("inventory-session-%d-%s.csv", s.ID, strings.Trim(clean, "-"))
}
