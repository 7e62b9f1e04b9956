package inventory

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// LocationKind is a level of the warehouse hierarchy.
type LocationKind string

const (
	Warehouse LocationKind = "warehouse"
	Zone      LocationKind = "zone"
	Bin       LocationKind = "bin"
	Other     LocationKind = "other"
)

func (k LocationKind) valid() bool { return k == Warehouse || k == Zone || k == Bin || k == Other }

// Location is a place where stock or assets are kept.
type Location struct {
	ID       int64        `json:"id"`
	ParentID int64        `json:"parent_id,omitempty"`
	Kind     LocationKind `json:"kind"`
	Code     string       `json:"code"`
	Name     string       `json:"name"`
	// Path is the chain of codes from the root, e.g. "WH1/A/03".
	Path       string     `json:"path"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
}

func (l Location) values() map[string]any {
	return map[string]any{"parent_id": l.ParentID, "kind": string(l.Kind), "code": l.Code, "name": l.Name, "path": l.Path}
}

// LocationInput is what it takes to create a location.
type LocationInput struct {
	ParentID int64        `json:"parent_id"`
	Kind     LocationKind `json:"kind"`
	Code     string       `json:"code"`
	Name     string       `json:"name"`
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)

// CreateLocation adds a location, under ParentID when it is not zero.
func CreateLocation(ctx context.Context, db *store.DB, n LocationInput) (Location, error) {
	a, err := actor.Require(ctx, actor.ManageCatalog)
	if err != nil {
		return Location{}, err
	}
	f := fault.Fields{}
	n.Code, n.Name = strings.TrimSpace(n.Code), strings.TrimSpace(n.Name)
	if !codePattern.MatchString(n.Code) {
		f.Add("code", "1–40 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if n.Name == "" {
		n.Name = n.Code
	}
	if len(n.Name) > 200 {
		f.Add("name", "at most 200 characters")
	} else if err := plaintext.Line("name", n.Name); err != nil {
		f.Add("name", err.(*fault.Error).Fields["name"])
	}
	if n.Kind == "" {
		n.Kind = Other
	}
	if !n.Kind.valid() {
		f.Add("kind", "must be warehouse, zone, bin or other")
	}
	if n.ParentID < 0 {
		f.Add("parent_id", "must be a location id")
	}
	if err := f.Err(); err != nil {
		return Location{}, err
	}
	var l Location
	err = db.InTx(ctx, func(tx *store.Tx) error {
		path := n.Code
		if n.ParentID != 0 {
			parent, err := getLocation(ctx, tx, a.WorkspaceID, n.ParentID)
			if err != nil {
				if fault.Is(err, fault.NotFound) {
					return fault.Field("parent_id", "no such location")
				}
				return err
			}
			if parent.ArchivedAt != nil {
				return fault.Field("parent_id", "that location is archived")
			}
			path = parent.Path + "/" + n.Code
		}
		now := time.Now().UTC()
		l = Location{ParentID: n.ParentID, Kind: n.Kind, Code: n.Code, Name: n.Name, Path: path, CreatedAt: now, UpdatedAt: now}
		var parent any
		if n.ParentID != 0 {
			parent = n.ParentID
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO locations (workspace_id, parent_id, kind, code, name, path, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`, a.WorkspaceID, parent, string(l.Kind), l.Code, l.Name, l.Path,
			store.Micros(now)).Scan(&l.ID)
		if store.IsUniqueViolation(err) {
			return &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("location %s already exists", path), Fields: map[string]string{"code": "already used here"}}
		}
		if err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Inventory,
			EntityType: "locations", EntityID: fmt.Sprint(l.ID), New: l.values(), Description: "location " + l.Path + " created"})
		return err
	})
	return l, err
}

const locationColumns = `id, COALESCE(parent_id, 0), kind, code, name, path, created_at, updated_at, archived_at`

func scanLocation(row interface{ Scan(...any) error }) (Location, error) {
	var l Location
	var created, updated int64
	var archived sql.NullInt64
	if err := row.Scan(&l.ID, &l.ParentID, &l.Kind, &l.Code, &l.Name, &l.Path, &created, &updated, &archived); err != nil {
		return Location{}, err
	}
	l.CreatedAt, l.UpdatedAt = store.Time(created), store.Time(updated)
	if archived.Valid {
		t := store.Time(archived.Int64)
		l.ArchivedAt = &t
	}
	return l, nil
}

// GetLocation returns one location of the actor's workspace.
func GetLocation(ctx context.Context, r store.Reader, id int64) (Location, error) {
	who, err := actor.RequireAny(ctx, actor.ViewInventory, actor.UseStation)
	if err != nil {
		return Location{}, err
	}
	return getLocation(ctx, r.Read(), who.WorkspaceID, id)
}

func getLocation(ctx context.Context, q store.Querier, workspaceID, id int64) (Location, error) {
	l, err := scanLocation(q.QueryRowContext(ctx, `SELECT `+locationColumns+` FROM locations WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	return l, store.NotFound(err, "location")
}

// ListLocations returns the workspace's locations in path order, so that
// children follow their parent.
func ListLocations(ctx context.Context, r store.Reader, includeArchived bool) ([]Location, error) {
	who, err := actor.RequireAny(ctx, actor.ViewInventory, actor.UseStation)
	if err != nil {
		return nil, err
	}
	q, workspaceID := r.Read(), who.WorkspaceID
	query := `SELECT ` + locationColumns + ` FROM locations WHERE workspace_id = $1`
	if !includeArchived {
		query += ` AND archived_at IS NULL`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY path`, workspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Location
	for rows.Next() {
		l, err := scanLocation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
