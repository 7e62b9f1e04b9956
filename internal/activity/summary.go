package activity

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// ActorCount is how many events one responsible party caused.
type ActorCount struct {
	Kind  string `json:"actor_kind"`
	ID    int64  `json:"actor_id"`
	Name  string `json:"username"`
	Count int64  `json:"count"`
}

// Summary counts the events that match a filter.
type Summary struct {
	Total    int64            `json:"total"`
	ByTable  map[string]int64 `json:"by_table"`
	ByAction map[string]int64 `json:"by_action"`
	ByUser   []ActorCount     `json:"by_user"`
}

// Summarize counts the actor's workspace's events matching f (paging
// ignored) per entity type, per action and per actor, and records that the
// summary was read.
func Summarize(ctx context.Context, db *store.DB, f Filter) (Summary, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return Summary{}, err
	}
	s, err := summarize(ctx, db, a.WorkspaceID, f, true)
	if err != nil {
		return Summary{}, err
	}
	vals := f.values()
	vals["total"] = s.Total
	// The rows looked at, as the data access report reads them: the events
	// the summary counted.
	vals["rows"] = s.Total
	err = RecordNow(ctx, db, Event{Action: Read, Category: Audit, EntityType: "activity_events", New: vals,
		Description: fmt.Sprintf("viewed the activity summary (%d events)", s.Total)})
	return s, err
}

// unfiltered reports whether f selects the whole workspace.
func (f Filter) unfiltered() bool {
	return f.From.IsZero() && f.Until.IsZero() && f.ActorKind == "" && f.ActorID == 0 && f.Action == "" &&
		f.Category == "" && f.EntityType == "" && f.EntityID == "" && strings.TrimSpace(f.Text) == ""
}

// summarize counts the events of workspaceID matching f. With rollups, the
// whole UTC days inside f's range up to the rollup watermark are read from
// activity_daily_counts and only the rest from the events (see rollup.go);
// the result is the same either way.
func summarize(ctx context.Context, db *store.DB, workspaceID int64, f Filter, rollups bool) (Summary, error) {
	acc := newSummaryAcc()
	err := func() error {
		if rollups && f.rollupable() {
			through, ok, err := rollupWatermark(ctx, db, workspaceID)
			if err != nil {
				return err
			}
			if plan, usable := planRollup(f, through); ok && usable {
				if err := summarizeRollups(ctx, db, workspaceID, f, plan, acc); err != nil {
					return err
				}
				for _, e := range plan.edges {
					if err := summarizeEvents(ctx, db, workspaceID, e, acc); err != nil {
						return err
					}
				}
				return nil
			}
		}
		return summarizeEvents(ctx, db, workspaceID, f, acc)
	}()
	if err != nil {
		return Summary{}, fmt.Errorf("summarize activity: %w", err)
	}
	s := acc.summary()
	slices.SortFunc(s.ByUser, func(a, b ActorCount) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		if a.Kind != b.Kind {
			return cmp.Compare(a.Kind, b.Kind)
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return s, nil
}

// summarizeEvents counts the events matching f into acc.
func summarizeEvents(ctx context.Context, db *store.DB, workspaceID int64, f Filter, acc *summaryAcc) error {
	w, err := f.where(ctx, db, workspaceID)
	if err != nil {
		return err
	}
	if !db.GroupsByHashing() && f.unfiltered() {
		return summarizeByIndexes(ctx, db, w, acc)
	}
	return summarizeInOnePass(ctx, db, w, acc)
}

// party is one responsible party's identity.
type party struct {
	kind string
	id   int64
}

// summaryAcc adds up counts from several queries (rollups and raw edges).
type summaryAcc struct {
	s       Summary
	byActor map[party]*ActorCount
}

func newSummaryAcc() *summaryAcc {
	return &summaryAcc{s: Summary{ByTable: map[string]int64{}, ByAction: map[string]int64{}}, byActor: map[party]*ActorCount{}}
}

// addActor counts n events of a party. Grouped by the party's identity;
// names change, and the one shown is one it had (the greatest).
func (acc *summaryAcc) addActor(kind string, id int64, name string, n int64) {
	c := acc.byActor[party{kind, id}]
	if c == nil {
		c = &ActorCount{Kind: kind, ID: id, Name: name}
		acc.byActor[party{kind, id}] = c
	}
	c.Count += n
	c.Name = max(c.Name, name)
}

// addRows adds rows of (entity_type, action, actor_kind, actor_id,
// actor_name, count) and closes them.
func (acc *summaryAcc) addRows(rows *sql.Rows) error {
	defer rows.Close()
	for rows.Next() {
		var table, action, kind, name string
		var id, n int64
		if err := rows.Scan(&table, &action, &kind, &id, &name, &n); err != nil {
			return err
		}
		acc.s.Total += n
		acc.s.ByTable[table] += n
		acc.s.ByAction[action] += n
		acc.addActor(kind, id, name, n)
	}
	return rows.Err()
}

func (acc *summaryAcc) summary() Summary {
	s := acc.s
	s.ByUser = []ActorCount{}
	for _, c := range acc.byActor {
		s.ByUser = append(s.ByUser, *c)
	}
	return s
}

// summarizeInOnePass reads the matching events once, grouped by all three
// keys at once, and adds up here. The planner picks the index by the filter
// (for a date range the time index, which covers every grouped column), and
// PostgreSQL hashes the groups. The groups number at most tables × actions ×
// actors.
func summarizeInOnePass(ctx context.Context, db *store.DB, w *store.Where, acc *summaryAcc) error {
	rows, err := db.Read().QueryContext(ctx, `SELECT entity_type, action, actor_kind, COALESCE(actor_id, 0), MAX(actor_name), COUNT(*)
		FROM activity_events WHERE `+w.String()+` GROUP BY entity_type, action, actor_kind, actor_id`, w.Args...)
	if err != nil {
		return err
	}
	return acc.addRows(rows)
}

// summarizeByIndexes counts a whole workspace on SQLite with one GROUP BY
// per key, each read in order from the index that starts with that key and
// covers it. SQLite groups by sorting, and sorting every event of the
// workspace on four columns cost ~2 µs per event, several times these three
// ordered index-only scans.
func summarizeByIndexes(ctx context.Context, db *store.DB, w *store.Where, acc *summaryAcc) error {
	s := &acc.s
	for _, g := range []struct {
		column string
		into   map[string]int64
	}{{"entity_type", s.ByTable}, {"action", s.ByAction}} {
		rows, err := db.Read().QueryContext(ctx, `SELECT `+g.column+`, COUNT(*) FROM activity_events WHERE `+w.String()+` GROUP BY `+g.column, w.Args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return err
			}
			g.into[k] = n
			if g.column == "action" {
				s.Total += n
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT actor_kind, COALESCE(actor_id, 0), MAX(actor_name), COUNT(*)
		FROM activity_events WHERE `+w.String()+` GROUP BY actor_kind, actor_id`, w.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c ActorCount
		if err := rows.Scan(&c.Kind, &c.ID, &c.Name, &c.Count); err != nil {
			return err
		}
		acc.addActor(c.Kind, c.ID, c.Name, c.Count)
	}
	return rows.Err()
}
