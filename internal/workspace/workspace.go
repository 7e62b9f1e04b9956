// Package workspace owns workspaces (tenants): their name, plan and the
// settings other areas read (time zone, negative stock, Lost enforcement,
// business hours). Every change to them is recorded as a configuration event.
package workspace

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Plan decides, among other things, how long activity is retained.
type Plan string

const (
	Starter    Plan = "starter"
	Business   Plan = "business"
	Enterprise Plan = "enterprise"
)

// Valid reports whether p is a known plan.
func (p Plan) Valid() bool { return p == Starter || p == Business || p == Enterprise }

// RetentionDays is how long the plan keeps activity events (seed 001).
func (p Plan) RetentionDays() int {
	switch p {
	case Starter:
		return 30
	case Business:
		return 90
	default:
		return 365
	}
}

// Settings are a workspace's preferences.
type Settings struct {
	// TimeZone is an IANA name; dates in filters and exports use it.
	TimeZone string `json:"time_zone"`
	// AllowNegativeStock lets issues drive a level below zero.
	AllowNegativeStock bool `json:"allow_negative_stock"`
	// MarkUnscannedLost makes finishing an inventory session mark every
	// unscanned asset Lost (seed 003's optional enforcement).
	MarkUnscannedLost bool `json:"mark_unscanned_lost"`
	// BusinessHours bound "after-hours access" alerts, as "HH:MM".
	BusinessHoursStart string `json:"business_hours_start"`
	BusinessHoursEnd   string `json:"business_hours_end"`
	// BusinessDays are the working weekdays, lower-case English names
	// ("monday" … "sunday"); Monday to Friday when empty.
	BusinessDays []string `json:"business_days,omitempty"`
}

// Weekdays lists the names BusinessDays takes, Monday first.
var Weekdays = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

func weekdayName(d time.Weekday) string { return Weekdays[(int(d)+6)%7] }

// Days returns the business days, defaulting to Monday to Friday.
func (s Settings) Days() []string {
	if len(s.BusinessDays) == 0 {
		return Weekdays[:5]
	}
	return s.BusinessDays
}

// WithinBusinessHours reports whether t falls on a business day between the
// start and end of business hours, in the workspace's time zone. An end
// before the start spans midnight (a night shift: 22:00–06:00), counted on
// the day the shift starts.
func (s Settings) WithinBusinessHours(t time.Time) bool {
	local := t.In(s.Location())
	start, err1 := time.Parse("15:04", s.BusinessHoursStart)
	end, err2 := time.Parse("15:04", s.BusinessHoursEnd)
	if err1 != nil || err2 != nil {
		return true
	}
	minute := local.Hour()*60 + local.Minute()
	from, to := start.Hour()*60+start.Minute(), end.Hour()*60+end.Minute()
	day := local.Weekday()
	switch {
	case from == to:
		// Open around the clock on business days.
	case from < to:
		if minute < from || minute >= to {
			return false
		}
	default:
		if minute >= to && minute < from {
			return false
		}
		if minute < to {
			day = (day + 6) % 7 // the early hours belong to yesterday's shift
		}
	}
	for _, d := range s.Days() {
		if d == weekdayName(day) {
			return true
		}
	}
	return false
}

// DefaultSettings are those of a new workspace.
func DefaultSettings() Settings {
	return Settings{TimeZone: "UTC", BusinessHoursStart: "07:00", BusinessHoursEnd: "19:00"}
}

// Location returns the settings' time zone (UTC if unknown).
func (s Settings) Location() *time.Location {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Validate checks every setting and names the ones that are wrong.
func (s Settings) Validate() error {
	f := fault.Fields{}
	if s.TimeZone == "" {
		f.Add("time_zone", "required")
	} else if _, err := time.LoadLocation(s.TimeZone); err != nil || strings.EqualFold(s.TimeZone, "local") {
		f.Add("time_zone", "unknown time zone; use an IANA name such as Europe/Berlin")
	}
	for field, v := range map[string]string{"business_hours_start": s.BusinessHoursStart, "business_hours_end": s.BusinessHoursEnd} {
		if _, err := time.Parse("15:04", v); err != nil {
			f.Add(field, "use HH:MM, e.g. 07:30")
		}
	}
	seen := map[string]bool{}
	for _, d := range s.BusinessDays {
		known := false
		for _, w := range Weekdays {
			known = known || d == w
		}
		if !known {
			f.Add("business_days", fmt.Sprintf("%q is not a weekday; use monday … sunday", d))
			break
		}
		if seen[d] {
			f.Add("business_days", d+" is listed twice")
			break
		}
		seen[d] = true
	}
	return f.Err()
}

// Workspace is a tenant.
type Workspace struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Plan      Plan      `json:"plan"`
	Settings  Settings  `json:"settings"`
	CreatedAt time.Time `json:"created_at"`
}

func (w Workspace) values() map[string]any {
	return map[string]any{
		"name": w.Name, "plan": string(w.Plan), "time_zone": w.Settings.TimeZone,
		"allow_negative_stock": w.Settings.AllowNegativeStock, "mark_unscanned_lost": w.Settings.MarkUnscannedLost,
		"business_hours_start": w.Settings.BusinessHoursStart, "business_hours_end": w.Settings.BusinessHoursEnd,
		"business_days": strings.Join(w.Settings.Days(), ","),
	}
}

func validateName(name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return fault.Field("name", "required")
	}
	if len(name) > 200 {
		return fault.Field("name", "at most 200 characters")
	}
	return plaintext.Line("name", name)
}

// Create makes a new workspace inside tx and records it.
func Create(ctx context.Context, tx *store.Tx, name string, plan Plan) (Workspace, error) {
	if err := validateName(name); err != nil {
		return Workspace{}, err
	}
	if !plan.Valid() {
		return Workspace{}, fault.Field("plan", "must be starter, business or enterprise")
	}
	w := Workspace{Name: strings.TrimSpace(name), Plan: plan, Settings: DefaultSettings(), CreatedAt: time.Now().UTC()}
	settings, _ := json.Marshal(w.Settings)
	err := tx.QueryRowContext(ctx, `INSERT INTO workspaces (name, plan, settings, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		w.Name, string(w.Plan), string(settings), store.Micros(w.CreatedAt)).Scan(&w.ID)
	if err != nil {
		return Workspace{}, fmt.Errorf("create workspace: %w", err)
	}
	_, err = activity.Record(ctx, tx, activity.Event{WorkspaceID: w.ID, Action: activity.Create, Category: activity.Configuration,
		EntityType: "workspaces", EntityID: fmt.Sprint(w.ID), New: w.values(), Description: "workspace created"})
	return w, err
}

// Get returns the actor's workspace. Every member may read it.
func Get(ctx context.Context, r store.Reader) (Workspace, error) {
	who, err := actor.Current(ctx)
	if err != nil {
		return Workspace{}, err
	}
	return get(ctx, r.Read(), who.WorkspaceID)
}

func get(ctx context.Context, q store.Querier, id int64) (Workspace, error) {
	var w Workspace
	var settings string
	var created int64
	err := q.QueryRowContext(ctx, `SELECT id, name, plan, settings, created_at FROM workspaces WHERE id = $1`, id).
		Scan(&w.ID, &w.Name, &w.Plan, &settings, &created)
	if err != nil {
		return Workspace{}, store.NotFound(err, "workspace")
	}
	w.CreatedAt = store.Time(created)
	w.Settings = DefaultSettings()
	if err := json.Unmarshal([]byte(settings), &w.Settings); err != nil {
		return Workspace{}, fmt.Errorf("workspace %d settings: %w", id, err)
	}
	return w, nil
}

// Count returns how many workspaces exist (0 on a fresh install).
func Count(ctx context.Context, q store.Querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces`).Scan(&n)
	return n, err
}

// First returns the oldest workspace, used where an install has one tenant.
func First(ctx context.Context, q store.Querier) (Workspace, error) {
	var id int64
	if err := q.QueryRowContext(ctx, `SELECT id FROM workspaces ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		if err == sql.ErrNoRows {
			return Workspace{}, fault.New(fault.NotFound, "no workspace yet")
		}
		return Workspace{}, err
	}
	return get(ctx, q, id)
}

// Change is an edit of a workspace; nil fields stay as they are.
type Change struct {
	Name               *string   `json:"name"`
	Plan               *Plan     `json:"plan"`
	TimeZone           *string   `json:"time_zone"`
	AllowNegativeStock *bool     `json:"allow_negative_stock"`
	MarkUnscannedLost  *bool     `json:"mark_unscanned_lost"`
	BusinessHoursStart *string   `json:"business_hours_start"`
	BusinessHoursEnd   *string   `json:"business_hours_end"`
	BusinessDays       *[]string `json:"business_days"`
}

// Update applies c to the actor's workspace and records what changed.
func Update(ctx context.Context, db *store.DB, c Change) (Workspace, error) {
	a, err := actor.Require(ctx, actor.ManageSettings)
	if err != nil {
		return Workspace{}, err
	}
	var out Workspace
	err = db.InTx(ctx, func(tx *store.Tx) error {
		old, err := get(ctx, tx, a.WorkspaceID)
		if err != nil {
			return err
		}
		w := old
		if c.Name != nil {
			if err := validateName(*c.Name); err != nil {
				return err
			}
			w.Name = strings.TrimSpace(*c.Name)
		}
		if c.Plan != nil {
			if !c.Plan.Valid() {
				return fault.Field("plan", "must be starter, business or enterprise")
			}
			w.Plan = *c.Plan
		}
		if c.TimeZone != nil {
			w.Settings.TimeZone = strings.TrimSpace(*c.TimeZone)
		}
		if c.AllowNegativeStock != nil {
			w.Settings.AllowNegativeStock = *c.AllowNegativeStock
		}
		if c.MarkUnscannedLost != nil {
			w.Settings.MarkUnscannedLost = *c.MarkUnscannedLost
		}
		if c.BusinessHoursStart != nil {
			w.Settings.BusinessHoursStart = *c.BusinessHoursStart
		}
		if c.BusinessHoursEnd != nil {
			w.Settings.BusinessHoursEnd = *c.BusinessHoursEnd
		}
		if c.BusinessDays != nil {
			w.Settings.BusinessDays = *c.BusinessDays
		}
		if err := w.Settings.Validate(); err != nil {
			return err
		}
		before, after := activity.Changes(old.values(), w.values())
		if len(after) == 0 {
			out = w
			return nil
		}
		settings, _ := json.Marshal(w.Settings)
		if _, err := tx.ExecContext(ctx, `UPDATE workspaces SET name = $1, plan = $2, settings = $3 WHERE id = $4`,
			w.Name, string(w.Plan), string(settings), w.ID); err != nil {
			return err
		}
		out = w
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Configuration,
			EntityType: "workspaces", EntityID: fmt.Sprint(w.ID), Old: before, New: after, Description: "workspace settings changed"})
		return err
	})
	return out, err
}
