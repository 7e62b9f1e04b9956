package assets

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// Recurrence kinds. Every kind is stored as a standard five-field cron
// expression evaluated in the workspace's time zone, so one well-tested
// parser (github.com/robfig/cron/v3: small, dependency-free, the de-facto Go
// cron parser) computes every occurrence.
const (
	Daily   = "daily"
	Weekly  = "weekly"
	Monthly = "monthly"
	Cron    = "cron"
)

// minScheduleGap refuses schedules that would create sessions faster than
// anyone can run them (and flood the list).
const minScheduleGap = time.Hour

// maxOccurrencesPerRun bounds how many missed occurrences one run catches up.
const maxOccurrencesPerRun = 50

// ScheduleInput describes a recurrence and the sessions it creates.
type ScheduleInput struct {
	Name       string `json:"name"`
	Recurrence string `json:"recurrence"`
	// Time of day "HH:MM" for daily, weekly and monthly recurrences.
	Time string `json:"time"`
	// Weekdays for weekly: 0 = Sunday … 6 = Saturday.
	Weekdays []int `json:"weekdays"`
	// MonthDay for monthly: 1–28, so that every month has it.
	MonthDay int `json:"month_day"`
	// Cron is a five-field cron expression for the cron recurrence.
	Cron           string `json:"cron"`
	LocationID     int64  `json:"location_id"`
	ExcludeRetired bool   `json:"exclude_retired"`
}

// Schedule is a stored recurrence.
type Schedule struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	Recurrence     string     `json:"recurrence"`
	Spec           string     `json:"spec"`
	LocationID     int64      `json:"location_id,omitempty"`
	ExcludeRetired bool       `json:"exclude_retired"`
	Active         bool       `json:"active"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	NextAt         *time.Time `json:"next_at,omitempty"`
}

// buildSpec turns a recurrence into a cron expression and checks that it
// can happen at all and not too often.
func buildSpec(n ScheduleInput, loc *time.Location, now time.Time) (string, cron.Schedule, error) {
	f := fault.Fields{}
	var spec string
	var hour, minute int
	if n.Recurrence != Cron {
		t, err := time.Parse("15:04", strings.TrimSpace(n.Time))
		if err != nil {
			f.Add("time", "use HH:MM, e.g. 07:30")
		}
		hour, minute = t.Hour(), t.Minute()
	}
	switch n.Recurrence {
	case Daily:
		spec = fmt.Sprintf("%d %d * * *", minute, hour)
	case Weekly:
		if len(n.Weekdays) == 0 {
			f.Add("weekdays", "choose at least one day")
		}
		days := slices.Clone(n.Weekdays)
		slices.Sort(days)
		days = slices.Compact(days)
		var parts []string
		for _, d := range days {
			if d < 0 || d > 6 {
				f.Add("weekdays", "days are 0 (Sunday) to 6 (Saturday)")
			}
			parts = append(parts, strconv.Itoa(d))
		}
		spec = fmt.Sprintf("%d %d * * %s", minute, hour, strings.Join(parts, ","))
	case Monthly:
		if n.MonthDay < 1 || n.MonthDay > 28 {
			f.Add("month_day", "1 to 28, so that every month has that day")
		}
		spec = fmt.Sprintf("%d %d %d * *", minute, hour, n.MonthDay)
	case Cron:
		spec = strings.Join(strings.Fields(n.Cron), " ")
		if len(strings.Fields(spec)) != 5 {
			f.Add("cron", "five fields: minute hour day-of-month month day-of-week")
		}
	default:
		f.Add("recurrence", "must be daily, weekly, monthly or cron")
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	field := "cron"
	if n.Recurrence != Cron {
		field = "recurrence"
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return "", nil, fault.Field(field, "not a valid cron expression: "+err.Error())
	}
	first := sched.Next(now.In(loc))
	if first.IsZero() {
		return "", nil, fault.Field(field, "this recurrence never happens (e.g. 31 February)")
	}
	if second := sched.Next(first); !second.IsZero() && second.Sub(first) < minScheduleGap {
		return "", nil, fault.Field(field, "at most one session per hour")
	}
	return spec, sched, nil
}

// CreateSchedule stores a schedule and creates its next session right away.
func CreateSchedule(ctx context.Context, db *store.DB, n ScheduleInput) (Schedule, error) {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return Schedule{}, err
	}
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" {
		return Schedule{}, fault.Field("name", "required")
	}
	if len(n.Name) > 150 {
		return Schedule{}, fault.Field("name", "at most 150 characters")
	}
	var out Schedule
	err = db.InTx(ctx, func(tx *store.Tx) error {
		ws, err := workspace.Get(ctx, tx)
		if err != nil {
			return err
		}
		now := time.Now()
		spec, _, err := buildSpec(n, ws.Settings.Location(), now)
		if err != nil {
			return err
		}
		if err := (&SessionInput{Name: n.Name, LocationID: n.LocationID}).validate(ctx, tx, who.WorkspaceID); err != nil {
			return err
		}
		out = Schedule{Name: n.Name, Recurrence: n.Recurrence, Spec: spec, LocationID: n.LocationID, ExcludeRetired: n.ExcludeRetired,
			Active: true, CreatedBy: who.Name, CreatedAt: now.UTC()}
		if err := tx.QueryRowContext(ctx, `INSERT INTO inventory_schedules (workspace_id, name, recurrence, spec, location_id, exclude_retired, active, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $8) RETURNING id`, who.WorkspaceID, n.Name, n.Recurrence, spec, nullID(n.LocationID),
			boolInt(n.ExcludeRetired), who.Name, store.Micros(now)).Scan(&out.ID); err != nil {
			return err
		}
		if _, err := activity.Record(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Assets, EntityType: "inventory_schedules",
			EntityID: fmt.Sprint(out.ID), New: map[string]any{"name": n.Name, "recurrence": n.Recurrence, "spec": spec, "location_id": n.LocationID,
				"exclude_retired": n.ExcludeRetired}, Description: "inventory schedule " + n.Name + " created"}); err != nil {
			return err
		}
		if _, err := createDue(ctx, tx, ws, out, now); err != nil {
			return err
		}
		out.NextAt, err = nextOccurrence(ctx, tx, who.WorkspaceID, out.ID)
		return err
	})
	return out, err
}

// SetScheduleActive pauses or resumes a schedule.
func SetScheduleActive(ctx context.Context, db *store.DB, id int64, active bool) error {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE inventory_schedules SET active = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4`,
			boolInt(active), store.Micros(time.Now()), who.WorkspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "inventory schedule not found")
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_schedules",
			EntityID: fmt.Sprint(id), New: map[string]any{"active": active}, Description: fmt.Sprintf("inventory schedule %d active=%t", id, active)})
		return err
	})
}

// ListSchedules returns the workspace's schedules with their next session.
func ListSchedules(ctx context.Context, db *store.DB) ([]Schedule, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return nil, err
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT id, name, recurrence, spec, COALESCE(location_id, 0), exclude_retired, active, created_by, created_at
		FROM inventory_schedules WHERE workspace_id = $1 ORDER BY id`, who.WorkspaceID)
	if err != nil {
		return nil, err
	}
	out, err := scanSchedules(rows)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].NextAt, err = nextOccurrence(ctx, db.Read(), who.WorkspaceID, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func scanSchedules(rows *sql.Rows) ([]Schedule, error) {
	defer rows.Close()
	var out []Schedule
	for rows.Next() {
		var s Schedule
		var excl, active int
		var created int64
		if err := rows.Scan(&s.ID, &s.Name, &s.Recurrence, &s.Spec, &s.LocationID, &excl, &active, &s.CreatedBy, &created); err != nil {
			return nil, err
		}
		s.ExcludeRetired, s.Active, s.CreatedAt = excl != 0, active != 0, store.Time(created)
		out = append(out, s)
	}
	return out, rows.Err()
}

// nextOccurrence is the latest occurrence created for the schedule.
func nextOccurrence(ctx context.Context, q store.Querier, workspaceID, scheduleID int64) (*time.Time, error) {
	var at sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT MAX(occurrence_at) FROM inventory_sessions WHERE workspace_id = $1 AND schedule_id = $2`, workspaceID, scheduleID).Scan(&at)
	return timePtr(at), err
}

// createDue creates the sessions of every occurrence since the last one
// created, up to and including the first one after now, so the next session
// always exists ahead of time and a restart skips none. The unique
// (schedule, occurrence) index makes a second run, on any node, a no-op.
func createDue(ctx context.Context, tx *store.Tx, ws workspace.Workspace, s Schedule, now time.Time) (int, error) {
	sched, err := cron.ParseStandard(s.Spec)
	if err != nil {
		return 0, fmt.Errorf("schedule %d: stored spec %q: %w", s.ID, s.Spec, err)
	}
	loc := ws.Settings.Location()
	from := s.CreatedAt
	if last, err := nextOccurrence(ctx, tx, ws.ID, s.ID); err != nil {
		return 0, err
	} else if last != nil {
		if last.After(now) {
			return 0, nil // the next session already exists
		}
		from = *last
	}
	sys := actor.SystemActor(ws.ID, "scheduler")
	sctx := actor.With(ctx, sys)
	created := 0
	at := sched.Next(from.In(loc))
	for i := 0; i < maxOccurrencesPerRun && !at.IsZero(); i++ {
		name := s.Name + " " + at.In(loc).Format("2006-01-02 15:04")
		id, err := insertSession(sctx, tx, sys, SessionInput{Name: name, LocationID: s.LocationID, ExcludeRetired: s.ExcludeRetired}, s.ID, at)
		if err != nil {
			return created, err
		}
		if id != 0 {
			created++
		}
		if at.After(now) {
			break
		}
		at = sched.Next(at)
	}
	return created, nil
}

// RunSchedules creates the due sessions of every active schedule in every
// workspace. The jobs runner calls it on one node; running it twice at once
// is still safe, because creation is idempotent per occurrence.
func RunSchedules(ctx context.Context, db *store.DB, now time.Time) (int, error) {
	rows, err := db.Read().QueryContext(ctx, `SELECT workspace_id, id FROM inventory_schedules WHERE active = 1 ORDER BY workspace_id, id`)
	if err != nil {
		return 0, err
	}
	type key struct{ ws, id int64 }
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.ws, &k.id); err != nil {
			rows.Close()
			return 0, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	total := 0
	for _, k := range keys {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			ws, err := workspace.Get(actor.With(ctx, actor.SystemActor(k.ws, "scheduler")), tx)
			if err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, `SELECT id, name, recurrence, spec, COALESCE(location_id, 0), exclude_retired, active, created_by, created_at
				FROM inventory_schedules WHERE workspace_id = $1 AND id = $2 AND active = 1`, k.ws, k.id)
			if err != nil {
				return err
			}
			list, err := scanSchedules(rows)
			if err != nil || len(list) == 0 {
				return err
			}
			n, err := createDue(ctx, tx, ws, list[0], now)
			total += n
			return err
		})
		if err != nil {
			return total, fmt.Errorf("schedule %d of workspace %d: %w", k.id, k.ws, err)
		}
	}
	return total, nil
}
