package assets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
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
	// Time, Weekdays and MonthDay read the recurrence back from Spec, as
	// ScheduleInput takes them (empty for a cron recurrence).
	Time         string `json:"time,omitempty"`
	Weekdays     []int  `json:"weekdays,omitempty"`
	MonthDay     int    `json:"month_day,omitempty"`
	LocationPath string `json:"location_path,omitempty"`
}

// readSpec fills Time, Weekdays and MonthDay from the stored cron spec that
// buildSpec wrote for a daily, weekly or monthly recurrence.
func (s *Schedule) readSpec() {
	f := strings.Fields(s.Spec)
	if s.Recurrence == Cron || len(f) != 5 {
		return
	}
	m, err1 := strconv.Atoi(f[0])
	h, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return
	}
	s.Time = fmt.Sprintf("%02d:%02d", h, m)
	switch s.Recurrence {
	case Weekly:
		for _, d := range strings.Split(f[4], ",") {
			if n, err := strconv.Atoi(d); err == nil {
				s.Weekdays = append(s.Weekdays, n)
			}
		}
	case Monthly:
		s.MonthDay, _ = strconv.Atoi(f[2])
	}
}

// Input is the schedule as the form and the API that edit it take it.
func (s Schedule) Input() ScheduleInput {
	in := ScheduleInput{Name: s.Name, Recurrence: s.Recurrence, Time: s.Time, Weekdays: s.Weekdays, MonthDay: s.MonthDay,
		LocationID: s.LocationID, ExcludeRetired: s.ExcludeRetired}
	if s.Recurrence == Cron {
		in.Cron = s.Spec
	}
	return in
}

// Describe says when the schedule creates sessions, in words.
func (s Schedule) Describe() string {
	days := []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	switch s.Recurrence {
	case Daily:
		return "Every day at " + s.Time
	case Weekly:
		var names []string
		for _, d := range s.Weekdays {
			if d >= 0 && d < 7 {
				names = append(names, days[d])
			}
		}
		return "Every " + strings.Join(names, ", ") + " at " + s.Time
	case Monthly:
		return fmt.Sprintf("Day %d of every month at %s", s.MonthDay, s.Time)
	}
	return "Cron " + s.Spec
}

const scheduleColumns = `s.id, s.name, s.recurrence, s.spec, COALESCE(s.location_id, 0), s.exclude_retired, s.active, s.created_by, s.created_at,
	COALESCE(l.path, '')`

const scheduleFrom = ` FROM inventory_schedules s LEFT JOIN locations l ON l.workspace_id = s.workspace_id AND l.id = s.location_id`

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
	if err := n.checkName(); err != nil {
		return Schedule{}, err
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
		out.readSpec()
		return err
	})
	return out, err
}

func (n *ScheduleInput) checkName() error {
	n.Name = strings.TrimSpace(n.Name)
	switch {
	case n.Name == "":
		return fault.Field("name", "required")
	case len(n.Name) > 150:
		return fault.Field("name", "at most 150 characters")
	}
	return plaintext.Line("name", n.Name)
}

// GetSchedule returns one schedule (not deleted) with its next session.
func GetSchedule(ctx context.Context, db *store.DB, id int64) (Schedule, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return Schedule{}, err
	}
	return getSchedule(ctx, db.Read(), who.WorkspaceID, id, "")
}

func getSchedule(ctx context.Context, q store.Querier, workspaceID, id int64, lock string) (Schedule, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+scheduleColumns+scheduleFrom+` WHERE s.workspace_id = $1 AND s.id = $2 AND s.deleted_at IS NULL`+lock,
		workspaceID, id)
	if err != nil {
		return Schedule{}, err
	}
	list, err := scanSchedules(rows)
	if err != nil {
		return Schedule{}, err
	}
	if len(list) == 0 {
		return Schedule{}, fault.New(fault.NotFound, "inventory schedule not found")
	}
	out := list[0]
	out.NextAt, err = nextOccurrence(ctx, q, workspaceID, id)
	return out, err
}

// scheduleValues are the fields an activity event about a schedule shows.
func scheduleValues(s Schedule) map[string]any {
	return map[string]any{"name": s.Name, "recurrence": s.Recurrence, "spec": s.Spec, "location_id": s.LocationID, "exclude_retired": s.ExcludeRetired}
}

// UpdateSchedule replaces a schedule's name, recurrence and scope. Sessions
// it created stay as they are, except the upcoming one that has not started:
// it follows the edit (name, scope and, if the recurrence changed, its
// moment), so the list never shows a session the schedule no longer means.
func UpdateSchedule(ctx context.Context, db *store.DB, id int64, n ScheduleInput) (Schedule, error) {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return Schedule{}, err
	}
	if err := n.checkName(); err != nil {
		return Schedule{}, err
	}
	var out Schedule
	err = db.InTx(ctx, func(tx *store.Tx) error {
		old, err := getSchedule(ctx, tx, who.WorkspaceID, id, tx.ForUpdate("s"))
		if err != nil {
			return err
		}
		ws, err := workspace.Get(ctx, tx)
		if err != nil {
			return err
		}
		now := time.Now()
		spec, sched, err := buildSpec(n, ws.Settings.Location(), now)
		if err != nil {
			return err
		}
		if err := (&SessionInput{Name: n.Name, LocationID: n.LocationID}).validate(ctx, tx, who.WorkspaceID); err != nil {
			return err
		}
		next := old
		next.Name, next.Recurrence, next.Spec, next.LocationID, next.ExcludeRetired = n.Name, n.Recurrence, spec, n.LocationID, n.ExcludeRetired
		before, after := activity.Changes(scheduleValues(old), scheduleValues(next))
		if len(after) == 0 {
			out = old
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inventory_schedules SET name = $1, recurrence = $2, spec = $3, location_id = $4, exclude_retired = $5,
			updated_at = $6 WHERE workspace_id = $7 AND id = $8`, n.Name, n.Recurrence, spec, nullID(n.LocationID), boolInt(n.ExcludeRetired),
			store.Micros(now), who.WorkspaceID, id); err != nil {
			return err
		}
		if _, err := activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_schedules",
			EntityID: fmt.Sprint(id), Old: before, New: after, Description: "inventory schedule " + n.Name + " edited"}); err != nil {
			return err
		}
		if err := followEdit(ctx, tx, who, ws, next, spec != old.Spec, sched.Next(now.In(ws.Settings.Location())), now); err != nil {
			return err
		}
		out, err = getSchedule(ctx, tx, who.WorkspaceID, id, "")
		return err
	})
	return out, err
}

// followEdit moves the schedule's upcoming session (Scheduled, its moment
// still ahead) to the edited name, scope and, when the recurrence changed,
// to the first new occurrence; an active schedule without one gets it.
func followEdit(ctx context.Context, tx *store.Tx, who actor.Actor, ws workspace.Workspace, s Schedule, moved bool, first, now time.Time) error {
	var sessionID int64
	var name string
	var occ int64
	var locID int64
	var excl int
	err := tx.QueryRowContext(ctx, `SELECT id, name, occurrence_at, COALESCE(location_id, 0), exclude_retired FROM inventory_sessions
		WHERE workspace_id = $1 AND schedule_id = $2 AND status = 'scheduled' AND occurrence_at > $3 ORDER BY occurrence_at DESC LIMIT 1`+tx.ForUpdate(),
		who.WorkspaceID, s.ID, store.Micros(now)).Scan(&sessionID, &name, &occ, &locID, &excl)
	if errors.Is(err, sql.ErrNoRows) {
		if !s.Active {
			return nil
		}
		_, err = createDue(ctx, tx, ws, s, now)
		return err
	}
	if err != nil {
		return err
	}
	at := store.Time(occ)
	if moved {
		at = first
	}
	newName := s.Name + " " + at.In(ws.Settings.Location()).Format("2006-01-02 15:04")
	if _, err := tx.ExecContext(ctx, `UPDATE inventory_sessions SET name = $1, occurrence_at = $2, location_id = $3, exclude_retired = $4
		WHERE workspace_id = $5 AND id = $6`, newName, store.Micros(at), nullID(s.LocationID), boolInt(s.ExcludeRetired), who.WorkspaceID, sessionID); err != nil {
		return err
	}
	before, after := activity.Changes(
		map[string]any{"name": name, "occurrence_at": store.Time(occ).UTC().Format(time.RFC3339), "location_id": locID, "exclude_retired": excl != 0},
		map[string]any{"name": newName, "occurrence_at": at.UTC().Format(time.RFC3339), "location_id": s.LocationID, "exclude_retired": s.ExcludeRetired})
	if len(after) == 0 {
		return nil
	}
	_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Assets, EntityType: "inventory_sessions",
		EntityID: fmt.Sprint(sessionID), Old: before, New: after, Description: "inventory session " + newName + " follows its schedule's edit"})
	return err
}

// DeleteSchedule deletes a schedule: it creates no more sessions and leaves
// the list. The sessions it created stay, each with its history (the row
// is kept, marked deleted, because they point at it).
func DeleteSchedule(ctx context.Context, db *store.DB, id int64) error {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		old, err := getSchedule(ctx, tx, who.WorkspaceID, id, tx.ForUpdate("s"))
		if err != nil {
			return err
		}
		now := store.Micros(time.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE inventory_schedules SET deleted_at = $1, active = 0, updated_at = $1 WHERE workspace_id = $2 AND id = $3`,
			now, who.WorkspaceID, id); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Delete, Category: activity.Assets, EntityType: "inventory_schedules",
			EntityID: fmt.Sprint(id), Old: scheduleValues(old), New: map[string]any{"deleted": true},
			Description: "inventory schedule " + old.Name + " deleted; the sessions it created stay"})
		return err
	})
}

// SetScheduleActive pauses or resumes a schedule.
func SetScheduleActive(ctx context.Context, db *store.DB, id int64, active bool) error {
	who, err := actor.Require(ctx, actor.ManageSessions)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE inventory_schedules SET active = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4 AND deleted_at IS NULL`,
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
	rows, err := db.Read().QueryContext(ctx, `SELECT `+scheduleColumns+scheduleFrom+`
		WHERE s.workspace_id = $1 AND s.deleted_at IS NULL ORDER BY s.id`, who.WorkspaceID)
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
		if err := rows.Scan(&s.ID, &s.Name, &s.Recurrence, &s.Spec, &s.LocationID, &excl, &active, &s.CreatedBy, &created, &s.LocationPath); err != nil {
			return nil, err
		}
		s.ExcludeRetired, s.Active, s.CreatedAt = excl != 0, active != 0, store.Time(created)
		s.readSpec()
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
	rows, err := db.Read().QueryContext(ctx, `SELECT workspace_id, id FROM inventory_schedules WHERE active = 1 AND deleted_at IS NULL ORDER BY workspace_id, id`)
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
		// Counted after the commit: the function may run more than once.
		created := 0
		err := db.InTx(ctx, func(tx *store.Tx) error {
			created = 0
			ws, err := workspace.Get(actor.With(ctx, actor.SystemActor(k.ws, "scheduler")), tx)
			if err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, `SELECT `+scheduleColumns+scheduleFrom+`
				WHERE s.workspace_id = $1 AND s.id = $2 AND s.active = 1 AND s.deleted_at IS NULL`, k.ws, k.id)
			if err != nil {
				return err
			}
			list, err := scanSchedules(rows)
			if err != nil || len(list) == 0 {
				return err
			}
			created, err = createDue(ctx, tx, ws, list[0], now)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("schedule %d of workspace %d: %w", k.id, k.ws, err)
		}
		total += created
	}
	return total, nil
}

// CountScheduleSessions counts the sessions a schedule created.
func CountScheduleSessions(ctx context.Context, db *store.DB, id int64) (int, error) {
	who, err := actor.Require(ctx, actor.ViewAssets)
	if err != nil {
		return 0, err
	}
	var n int
	err = db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM inventory_sessions WHERE workspace_id = $1 AND schedule_id = $2`, who.WorkspaceID, id).Scan(&n)
	return n, err
}
