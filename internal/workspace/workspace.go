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

// Title is the plan's name as people read it ("Business").
func (p Plan) Title() string {
	if p == "" {
		return ""
	}
	return strings.ToUpper(string(p[:1])) + string(p[1:])
}

// ParsePlan reads a plan's name (any case), naming the field when unknown.
func ParsePlan(name string) (Plan, error) {
	p := Plan(strings.ToLower(strings.TrimSpace(name)))
	if !p.Valid() {
		return "", fault.Field("plan", "must be starter, business or enterprise")
	}
	return p, nil
}

// MaxRetentionDays bounds a longer retention an Enterprise workspace may
// choose (a hundred years): beyond it, a typo rather than a wish.
const MaxRetentionDays = 36500

// RetentionDays is how long the plan keeps activity events at least (seed
// 001); only Enterprise may keep them longer (Workspace.ActivityRetentionDays).
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
	// OverReceiptPercent is how far an inbound order line may be received
	// beyond its ordered quantity, in percent of it (0: not at all).
	OverReceiptPercent int `json:"over_receipt_percent"`
}

// MaxOverReceiptPercent bounds the over-receipt tolerance: beyond it, a typo
// rather than a policy.
const MaxOverReceiptPercent = 1000

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
	if s.OverReceiptPercent < 0 || s.OverReceiptPercent > MaxOverReceiptPercent {
		f.Add("over_receipt_percent", fmt.Sprintf("must be a whole percentage from 0 to %d", MaxOverReceiptPercent))
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
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Plan is set by the install's operator (SetPlan), never by the
	// workspace's own admins.
	Plan Plan `json:"plan"`
	// ActivityRetentionDays is how long activity events are kept before the
	// retention purge deletes them: the plan's minimum, or longer on
	// Enterprise. The database's delete trigger reads the same column.
	ActivityRetentionDays int `json:"activity_retention_days"`
	// LegalHold stops every purge until the operator lifts it.
	LegalHold       bool       `json:"legal_hold"`
	LegalHoldReason string     `json:"legal_hold_reason,omitempty"`
	LegalHoldSince  *time.Time `json:"legal_hold_since,omitempty"`
	Settings        Settings   `json:"settings"`
	CreatedAt       time.Time  `json:"created_at"`
}

// InventoryLogRetention is how long the inventory change log is kept: for
// ever, because stock at any past moment is rebuilt from it (as-of stock)
// and current levels are checked against it. No setting shortens it.
const InventoryLogRetention = "forever"

// RetentionRule says the rule that applies, as people read it: "Business
// plan: 90 days", "Enterprise plan: 400 days (plan minimum 365)".
func (w Workspace) RetentionRule() string {
	rule := fmt.Sprintf("%s plan: %d days", w.Plan.Title(), w.ActivityRetentionDays)
	if w.ActivityRetentionDays != w.Plan.RetentionDays() {
		rule += fmt.Sprintf(" (plan minimum %d)", w.Plan.RetentionDays())
	}
	return rule
}

// MayExtendRetention reports whether the workspace's admins may choose a
// retention longer than the plan's minimum (Enterprise only).
func (w Workspace) MayExtendRetention() bool { return w.Plan == Enterprise }

func (w Workspace) values() map[string]any {
	return map[string]any{
		"name": w.Name, "plan": string(w.Plan), "activity_retention_days": w.ActivityRetentionDays,
		"legal_hold": w.LegalHold, "time_zone": w.Settings.TimeZone,
		"allow_negative_stock": w.Settings.AllowNegativeStock, "mark_unscanned_lost": w.Settings.MarkUnscannedLost,
		"business_hours_start": w.Settings.BusinessHoursStart, "business_hours_end": w.Settings.BusinessHoursEnd,
		"business_days": strings.Join(w.Settings.Days(), ","), "over_receipt_percent": w.Settings.OverReceiptPercent,
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
	w := Workspace{Name: strings.TrimSpace(name), Plan: plan, ActivityRetentionDays: plan.RetentionDays(),
		Settings: DefaultSettings(), CreatedAt: time.Now().UTC()}
	settings, _ := json.Marshal(w.Settings)
	err := tx.QueryRowContext(ctx, `INSERT INTO workspaces (name, plan, activity_retention_days, settings, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		w.Name, string(w.Plan), w.ActivityRetentionDays, string(settings), store.Micros(w.CreatedAt)).Scan(&w.ID)
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

const workspaceColumns = `id, name, plan, activity_retention_days, legal_hold, legal_hold_reason, legal_hold_since, settings, created_at`

func get(ctx context.Context, q store.Querier, id int64) (Workspace, error) {
	w, err := scanWorkspace(q.QueryRowContext(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = $1`, id))
	if err != nil {
		return Workspace{}, store.NotFound(err, "workspace")
	}
	return w, nil
}

func scanWorkspace(row interface{ Scan(...any) error }) (Workspace, error) {
	var w Workspace
	var settings string
	var created int64
	var hold int
	var since sql.NullInt64
	if err := row.Scan(&w.ID, &w.Name, &w.Plan, &w.ActivityRetentionDays, &hold, &w.LegalHoldReason, &since, &settings, &created); err != nil {
		return Workspace{}, err
	}
	w.LegalHold = hold != 0
	if since.Valid {
		t := store.Time(since.Int64)
		w.LegalHoldSince = &t
	}
	w.CreatedAt = store.Time(created)
	w.Settings = DefaultSettings()
	if err := json.Unmarshal([]byte(settings), &w.Settings); err != nil {
		return Workspace{}, fmt.Errorf("workspace %d settings: %w", w.ID, err)
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
	Name *string `json:"name"`
	// ActivityRetentionDays may be raised above the plan's minimum on the
	// Enterprise plan; on the others it must stay the plan's.
	ActivityRetentionDays *int      `json:"activity_retention_days"`
	TimeZone              *string   `json:"time_zone"`
	AllowNegativeStock    *bool     `json:"allow_negative_stock"`
	MarkUnscannedLost     *bool     `json:"mark_unscanned_lost"`
	BusinessHoursStart    *string   `json:"business_hours_start"`
	BusinessHoursEnd      *string   `json:"business_hours_end"`
	BusinessDays          *[]string `json:"business_days"`
	OverReceiptPercent    *int      `json:"over_receipt_percent"`
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
		if c.ActivityRetentionDays != nil {
			if err := w.checkRetention(*c.ActivityRetentionDays); err != nil {
				return err
			}
			w.ActivityRetentionDays = *c.ActivityRetentionDays
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
		if c.OverReceiptPercent != nil {
			w.Settings.OverReceiptPercent = *c.OverReceiptPercent
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
		if _, err := tx.ExecContext(ctx, `UPDATE workspaces SET name = $1, activity_retention_days = $2, settings = $3 WHERE id = $4`,
			w.Name, w.ActivityRetentionDays, string(settings), w.ID); err != nil {
			return err
		}
		out = w
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Configuration,
			EntityType: "workspaces", EntityID: fmt.Sprint(w.ID), Old: before, New: after, Description: "workspace settings changed"})
		return err
	})
	return out, err
}

// checkRetention says why days cannot be the workspace's activity
// retention: below the plan's minimum, or above it on a plan that does not
// allow longer.
func (w Workspace) checkRetention(days int) error {
	min := w.Plan.RetentionDays()
	switch {
	case days == min:
		return nil
	case days < min:
		return fault.Field("activity_retention_days", fmt.Sprintf("the %s plan keeps activity at least %d days: enter %d or more", w.Plan.Title(), min, min))
	case !w.MayExtendRetention():
		return fault.Field("activity_retention_days", fmt.Sprintf("the %s plan keeps activity %d days; only the Enterprise plan may keep it longer (ask the install's operator)", w.Plan.Title(), min))
	case days > MaxRetentionDays:
		return fault.Field("activity_retention_days", fmt.Sprintf("at most %d days", MaxRetentionDays))
	}
	return nil
}
