package activity

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Compliance reports (seed 001, Reports → Audit): for a range of days in the
// workspace's time zone, the user activity summary (per party: logins,
// failed logins, actions by type, exports, last active, after-hours
// actions), the data access report (every READ and EXPORT: who looked at or
// took out what, how many rows) and the configuration changes (every
// setting, role, key, station and rule change, before → after). The web
// page, the API and the CSV/PDF files all come from here; reading a report
// is recorded like every other read of the trail.

// ReportKind names a compliance report.
type ReportKind string

const (
	UserActivityReport  ReportKind = "user-activity"
	DataAccessReport    ReportKind = "data-access"
	ConfigChangesReport ReportKind = "configuration-changes"
)

const (
	// reportDefaultDays is the range when no start is given, ending today.
	reportDefaultDays = 30
	// reportEntity is the entity type of the READ and EXPORT events of
	// reports (their entity id is the report's kind).
	reportEntity       = "audit_reports"
	reportDefaultLimit = 100
)

// ReportKinds lists the reports in the order the page offers them.
func ReportKinds() []ReportKind {
	return []ReportKind{UserActivityReport, DataAccessReport, ConfigChangesReport}
}

// Title is the report's name as people read it.
func (k ReportKind) Title() string {
	switch k {
	case UserActivityReport:
		return "User activity summary"
	case DataAccessReport:
		return "Data access report"
	case ConfigChangesReport:
		return "Configuration changes"
	}
	return string(k)
}

// Summary says in one sentence what the report holds.
func (k ReportKind) Summary() string {
	switch k {
	case UserActivityReport:
		return "Per user, station or API key: logins, failed logins, actions by type, exports, after-hours actions and when each was last active."
	case DataAccessReport:
		return "Every view and export of data: who looked at or took out what, and how many rows."
	case ConfigChangesReport:
		return "Every change to settings, roles, API keys, stations and alert rules, with the value before and after."
	}
	return ""
}

// ReportClock is what a report needs of its workspace: the time zone its
// dates are days in, and the business hours after-hours actions are counted
// against (workspace.Settings is one).
type ReportClock interface {
	BusinessHours
	Location() *time.Location
}

// ReportInput selects a report: its kind and a range of days (inclusive, in
// the workspace's time zone), and for the reports that list events, where
// a page continues (After) and its size.
type ReportInput struct {
	Kind     ReportKind
	From, To string
	// from and until are the range as instants: from <= t < until.
	from, until time.Time
	After       *Cursor
	Limit       int
}

// ParseReportInput reads a report's parameters: from and to (YYYY-MM-DD,
// days in loc; to defaults to today, from to 29 days before to), cursor and
// limit. kind is the report's name (from the path or the form). Every
// problem is reported per field.
func ParseReportInput(kind string, v url.Values, loc *time.Location, now time.Time) (ReportInput, error) {
	if loc == nil {
		loc = time.UTC
	}
	bad := fault.Fields{}
	in := ReportInput{Kind: ReportKind(strings.TrimSpace(kind)), Limit: reportDefaultLimit}
	if !slices.Contains(ReportKinds(), in.Kind) {
		names := make([]string, 0, 3)
		for _, k := range ReportKinds() {
			names = append(names, string(k))
		}
		bad.Add("report", "choose a report: "+strings.Join(names, ", "))
	}
	day := func(name string) (time.Time, bool) {
		t, given, _ := queryDay(v, name, loc, bad)
		return t, given
	}
	to, toGiven := day("to")
	from, fromGiven := day("from")
	if !toGiven {
		n := now.In(loc)
		to = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	}
	if !fromGiven && !to.IsZero() {
		from = to.AddDate(0, 0, -(reportDefaultDays - 1))
	}
	if !from.IsZero() && !to.IsZero() {
		if to.Before(from) {
			bad.Add("to", "the end date must be on or after the start date")
		}
		in.From, in.To = from.Format("2006-01-02"), to.Format("2006-01-02")
		in.from, in.until = from, to.AddDate(0, 0, 1)
	}
	if raw := strings.TrimSpace(v.Get("cursor")); raw != "" {
		c, err := ParseCursor(raw)
		if err != nil {
			bad.Add("cursor", "not a cursor this server gave out")
		}
		in.After = &c
	}
	if n, given := queryLimit(v, bad); given {
		in.Limit = n
	}
	if err := bad.Err(); err != nil {
		return ReportInput{}, err
	}
	return in, nil
}

// ComplianceReport is one compliance report as read: its framing (kind, range, time
// zone, filters, generation time) and the rows of its kind.
type ComplianceReport struct {
	Kind        ReportKind
	From, To    string
	TimeZone    string
	GeneratedAt time.Time
	// Users are the user activity summary's rows, busiest first.
	Users []UserActivity
	// UnknownAccounts are the failed logins for e-mails that match no user.
	UnknownAccounts UnknownAccountFailures
	// Access are the data access report's rows, oldest first.
	Access []AccessEntry
	// Changes are the configuration changes, oldest first.
	Changes []ConfigChange
	// Next continues a listing report after its last row; nil at the end.
	Next *Cursor
}

// Title is the report's name.
func (r ComplianceReport) Title() string { return r.Kind.Title() }

// Filters describe the selection, one per line, as printed on the report.
func (r ComplianceReport) Filters() []string {
	return []string{"Report: " + r.Kind.Title(), "From: " + r.From, "To: " + r.To + " (inclusive)", "Time zone: " + r.TimeZone}
}

// MarshalJSON is the report as the API answers it: the framing, then its
// rows under "rows" (always a list), then "next_cursor" when there is more.
func (r ComplianceReport) MarshalJSON() ([]byte, error) {
	out := map[string]any{"report": r.Kind, "title": r.Kind.Title(), "from": r.From, "to": r.To, "time_zone": r.TimeZone,
		"generated_at": r.GeneratedAt.UTC().Format(time.RFC3339), "filters": r.Filters()}
	switch r.Kind {
	case UserActivityReport:
		out["rows"] = nonNil(r.Users)
		out["unknown_accounts"] = r.UnknownAccounts
	case DataAccessReport:
		out["rows"] = nonNil(r.Access)
	case ConfigChangesReport:
		out["rows"] = nonNil(r.Changes)
	}
	if r.Next != nil {
		out["next_cursor"] = r.Next.String()
	}
	return json.Marshal(out)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// UserActivity is one responsible party's line of the user activity
// summary. Failed logins count attempts (a coalesced LOGIN_FAILED event
// counts its "attempts"), attributed to the account that was tried.
type UserActivity struct {
	ActorKind    string           `json:"actor_kind"`
	ActorID      int64            `json:"actor_id"`
	Name         string           `json:"name"`
	Logins       int64            `json:"logins"`
	FailedLogins int64            `json:"failed_logins"`
	Exports      int64            `json:"exports"`
	Actions      int64            `json:"actions"`
	ByAction     map[string]int64 `json:"actions_by_type"`
	AfterHours   int64            `json:"after_hours_actions"`
	// LastActive is the time of the party's last event in the range (nil:
	// none, e.g. an account that was only tried).
	LastActive *time.Time `json:"last_active"`
}

// UnknownAccountFailures are failed logins for e-mails that match no user.
type UnknownAccountFailures struct {
	Attempts int64 `json:"attempts"`
	Emails   int   `json:"emails"`
}

// AccessEntry is one READ or EXPORT: who looked at or took out what.
type AccessEntry struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"occurred_at"`
	ActorKind   string    `json:"actor_kind"`
	ActorID     int64     `json:"actor_id,omitempty"`
	ActorName   string    `json:"actor_name"`
	Action      Action    `json:"action"`
	EntityType  string    `json:"table_name"`
	EntityID    string    `json:"record_id,omitempty"`
	Description string    `json:"description"`
	// Rows is how many rows were shown or exported (nil: not recorded, as
	// on manual READ entries).
	Rows   *int64 `json:"rows"`
	Format string `json:"format,omitempty"`
	IP     string `json:"ip_address"`
}

// ConfigChange is one configuration change with its fields before and after.
type ConfigChange struct {
	ID          int64         `json:"id"`
	At          time.Time     `json:"occurred_at"`
	ActorKind   string        `json:"actor_kind"`
	ActorID     int64         `json:"actor_id,omitempty"`
	ActorName   string        `json:"actor_name"`
	Action      Action        `json:"action"`
	EntityType  string        `json:"table_name"`
	EntityID    string        `json:"record_id,omitempty"`
	Description string        `json:"description"`
	Changes     []FieldChange `json:"changes"`
	IP          string        `json:"ip_address"`
}

// ChangesText is the change as "field: before → after" lines.
func (c ConfigChange) ChangesText() string { return fieldChangesText(c.Changes) }

// BuildReport reads one page of the report in (a whole user activity
// summary; up to in.Limit rows of a listing) for the actor's workspace and
// records that it was read. Admins and auditors only.
func BuildReport(ctx context.Context, db *store.DB, in ReportInput, clock ReportClock) (ComplianceReport, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return ComplianceReport{}, err
	}
	r, err := buildReport(ctx, db, a.WorkspaceID, in, clock)
	if err != nil {
		return ComplianceReport{}, err
	}
	vals := in.values()
	vals["rows"] = r.rows()
	err = RecordNow(ctx, db, Event{Action: Read, Category: Audit, EntityType: reportEntity, EntityID: string(in.Kind), New: vals,
		Description: fmt.Sprintf("viewed the %s for %s to %s (%d rows)", strings.ToLower(in.Kind.Title()), in.From, in.To, r.rows())})
	return r, err
}

// rows is the number of rows the report holds.
func (r ComplianceReport) rows() int {
	return len(r.Users) + len(r.Access) + len(r.Changes)
}

// values is the selection as recorded in the READ and EXPORT events.
func (in ReportInput) values() map[string]any {
	m := map[string]any{"report": string(in.Kind), "from": in.From, "to": in.To}
	if in.After != nil {
		m["cursor"] = in.After.String()
	}
	return m
}

func buildReport(ctx context.Context, db *store.DB, workspaceID int64, in ReportInput, clock ReportClock) (ComplianceReport, error) {
	if in.from.IsZero() || in.until.IsZero() {
		return ComplianceReport{}, fault.Field("from", "enter the report's start date")
	}
	loc := clock.Location()
	r := ComplianceReport{Kind: in.Kind, From: in.From, To: in.To, TimeZone: loc.String(), GeneratedAt: time.Now()}
	var err error
	switch in.Kind {
	case UserActivityReport:
		r.Users, r.UnknownAccounts, err = userActivity(ctx, db, workspaceID, in, clock)
	case DataAccessReport:
		var evs []Event
		evs, r.Next, err = reportPage(ctx, db, workspaceID, in, dataAccessStreams(), in.After, in.Limit)
		for _, ev := range evs {
			r.Access = append(r.Access, accessEntry(ev))
		}
	case ConfigChangesReport:
		var evs []Event
		evs, r.Next, err = reportPage(ctx, db, workspaceID, in, configStreams(), in.After, in.Limit)
		for _, ev := range evs {
			r.Changes = append(r.Changes, configChange(ev))
		}
	default:
		return ComplianceReport{}, fault.Field("report", "unknown report")
	}
	if err != nil {
		return ComplianceReport{}, fmt.Errorf("%s: %w", in.Kind.Title(), err)
	}
	return r, nil
}

// userActivity adds up the range per party: the whole UTC days inside it
// that are rolled up from activity_daily_counts (after-hours counts and the
// last event's time included), the rest (partial days at the ends, days
// after the watermark) from the events with the same counting, and failed
// logins, which name the account tried rather than an actor, from the
// LOGIN_FAILED events themselves (few: repeated refusals are coalesced).
func userActivity(ctx context.Context, db *store.DB, workspaceID int64, in ReportInput, clock BusinessHours) ([]UserActivity, UnknownAccountFailures, error) {
	acc := map[party]*UserActivity{}
	add := func(kind string, id int64, name, action string, n, afterHours, lastAt int64) {
		if kind == "anonymous" {
			return // failed logins are counted by the account tried, below
		}
		u := acc[party{kind, id}]
		if u == nil {
			u = &UserActivity{ActorKind: kind, ActorID: id, Name: name, ByAction: map[string]int64{}}
			acc[party{kind, id}] = u
		}
		u.Name = max(u.Name, name)
		u.Actions += n
		u.ByAction[action] += n
		u.AfterHours += afterHours
		switch Action(action) {
		case Login:
			u.Logins += n
		case Export:
			u.Exports += n
		}
		if lastAt > 0 && (u.LastActive == nil || store.Micros(*u.LastActive) < lastAt) {
			t := store.Time(lastAt)
			u.LastActive = &t
		}
	}
	from, until := store.Micros(in.from), store.Micros(in.until)
	through, ok, err := rollupWatermark(ctx, db, workspaceID)
	if err != nil {
		return nil, UnknownAccountFailures{}, err
	}
	edges := []span{{from, until}}
	if ok {
		if plan, usable := planRollup(Filter{From: in.from, Until: in.until}, through); usable {
			edges = edges[:0]
			for _, e := range plan.edges {
				edges = append(edges, span{store.Micros(e.From), store.Micros(e.Until)})
			}
			if err := rollupActivity(ctx, db, workspaceID, plan.firstDay, plan.lastDay, add); err != nil {
				return nil, UnknownAccountFailures{}, err
			}
		}
	}
	// The edges are counted day by day, and asking the business hours costs
	// ~25 ms a day, so they are first cut to the days that hold events: a
	// range reaching back decades or into the future costs no more than the
	// log's own span.
	var first, last sql.NullInt64
	if err := db.Read().QueryRowContext(ctx, `SELECT MIN(occurred_at), MAX(occurred_at) FROM activity_events WHERE workspace_id = $1`,
		workspaceID).Scan(&first, &last); err != nil {
		return nil, UnknownAccountFailures{}, err
	}
	for _, e := range edges {
		if !first.Valid {
			break
		}
		e.from, e.until = max(e.from, first.Int64), min(e.until, last.Int64+1)
		// Day by day, so the after-hours spans of each query stay few.
		for lo := e.from; lo < e.until; {
			hi := min(e.until, (floorDiv(lo, dayMicros)+1)*dayMicros)
			counts, err := countRange(ctx, db, workspaceID, lo, hi, clock)
			if err != nil {
				return nil, UnknownAccountFailures{}, err
			}
			for _, c := range counts {
				add(c.kind, c.id, c.name, c.action, c.n, c.afterHours, c.lastAt)
			}
			lo = hi
		}
	}
	unknown, err := failedLoginsByAccount(ctx, db, workspaceID, from, until, func(userID int64, name string, attempts int64) {
		u := acc[party{"user", userID}]
		if u == nil {
			u = &UserActivity{ActorKind: "user", ActorID: userID, Name: name, ByAction: map[string]int64{}}
			acc[party{"user", userID}] = u
		}
		u.FailedLogins += attempts
	})
	if err != nil {
		return nil, UnknownAccountFailures{}, err
	}
	out := make([]UserActivity, 0, len(acc))
	for _, u := range acc {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b UserActivity) int {
		if a.Actions != b.Actions {
			return cmp.Compare(b.Actions, a.Actions)
		}
		if a.Name != b.Name {
			return cmp.Compare(a.Name, b.Name)
		}
		return cmp.Compare(a.ActorID, b.ActorID)
	})
	return out, unknown, nil
}

// rollupActivity adds the rollup rows of days [firstDay, lastDay] per party
// and action. Where the database hashes groups it adds them up; SQLite
// would sort every row to group them, so its rows are added up by the
// caller instead.
func rollupActivity(ctx context.Context, db *store.DB, workspaceID, firstDay, lastDay int64,
	add func(kind string, id int64, name, action string, n, afterHours, lastAt int64)) error {
	q := `SELECT actor_kind, actor_id, MAX(actor_name), action, CAST(SUM(n) AS BIGINT), CAST(SUM(after_hours) AS BIGINT), MAX(last_at)
		FROM activity_daily_counts WHERE workspace_id = $1 AND day >= $2 AND day <= $3 AND actor_kind <> 'anonymous'
		GROUP BY actor_kind, actor_id, action`
	if !db.GroupsByHashing() {
		q = `SELECT actor_kind, actor_id, actor_name, action, n, after_hours, last_at
			FROM activity_daily_counts WHERE workspace_id = $1 AND day >= $2 AND day <= $3 AND actor_kind <> 'anonymous'`
	}
	rows, err := db.Read().QueryContext(ctx, q, workspaceID, firstDay, lastDay)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, name, action string
		var id, n, after, last int64
		if err := rows.Scan(&kind, &id, &name, &action, &n, &after, &last); err != nil {
			return err
		}
		add(kind, id, name, action, n, after, last)
	}
	return rows.Err()
}

// failedLoginsByAccount reads the LOGIN_FAILED events of [from, until) and
// hands each known account's attempts to add ("attempts", absent means 1).
// The account is the event's entity id, or for events recorded before it
// was kept there, the user whose e-mail was tried.
func failedLoginsByAccount(ctx context.Context, db *store.DB, workspaceID, from, until int64,
	add func(userID int64, name string, attempts int64)) (UnknownAccountFailures, error) {
	users, names := map[string]int64{}, map[int64]string{}
	rows, err := db.Read().QueryContext(ctx, `SELECT id, email, name, deleted_at IS NULL FROM users WHERE workspace_id = $1`, workspaceID)
	if err != nil {
		return UnknownAccountFailures{}, err
	}
	for rows.Next() {
		var id int64
		var email, name string
		var live bool
		if err := rows.Scan(&id, &email, &name, &live); err != nil {
			rows.Close()
			return UnknownAccountFailures{}, err
		}
		if live {
			users[strings.ToLower(email)] = id
		}
		names[id] = name
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return UnknownAccountFailures{}, err
	}
	rows, err = db.Read().QueryContext(ctx, `SELECT entity_id, actor_name, COALESCE(new_values, '') FROM activity_events
		WHERE workspace_id = $1 AND action = $2 AND occurred_at >= $3 AND occurred_at < $4`,
		workspaceID, string(LoginFailed), from, until)
	if err != nil {
		return UnknownAccountFailures{}, err
	}
	defer rows.Close()
	var unknown UnknownAccountFailures
	unknownEmails := map[string]bool{}
	for rows.Next() {
		var entityID, name, raw string
		if err := rows.Scan(&entityID, &name, &raw); err != nil {
			return UnknownAccountFailures{}, err
		}
		attempts := FailedLoginAttempts(raw)
		id, err := strconv.ParseInt(entityID, 10, 64)
		if err != nil || id <= 0 {
			id = users[strings.ToLower(name)]
		}
		if id == 0 {
			unknown.Attempts += attempts
			unknownEmails[strings.ToLower(name)] = true
			continue
		}
		if n := names[id]; n != "" {
			name = n
		}
		add(id, name, attempts)
	}
	unknown.Emails = len(unknownEmails)
	return unknown, rows.Err()
}

// FailedLoginAttempts is how many refused logins a LOGIN_FAILED event's
// new_values cover: its "attempts", 1 when absent or unreadable.
func FailedLoginAttempts(newValues string) int64 {
	var v struct {
		Attempts *int64 `json:"attempts"`
	}
	if json.Unmarshal([]byte(newValues), &v) != nil || v.Attempts == nil || *v.Attempts < 1 {
		return 1
	}
	return *v.Attempts
}

// reportStream is one index range of a listing report: a condition whose
// index ends in (occurred_at, id), so each stream is read in order and the
// streams are merged (an OR of them would make the database collect and
// sort every match before the first row).
type reportStream struct {
	cond  string
	value any
}

// dataAccessStreams select every read and export.
func dataAccessStreams() []reportStream {
	return []reportStream{{"action = ?", string(Read)}, {"action = ?", string(Export)}}
}

// configChangeCondition selects every configuration change: the
// configuration category (workspace settings, stations, ledger keys, alert
// rules), role changes (the permissions a user holds) and changes of API
// keys and stations. It is the predicate of the partial index
// activity_events_config_changes (migration 00025), word for word, so both
// engines read the changes in time order from it.
const configChangeCondition = `(category = 'configuration' OR action = 'ROLE_CHANGE'
       OR (entity_type IN ('api_keys', 'stations') AND action IN ('CREATE', 'UPDATE', 'DELETE', 'REVOKE')))`

// configStreams select every configuration change, from its own index.
func configStreams() []reportStream {
	return []reportStream{{cond: configChangeCondition}}
}

// reportPage reads up to limit events of the streams in [in.from, in.until)
// after the cursor, oldest first, and the cursor of the next page (nil at
// the end).
func reportPage(ctx context.Context, db *store.DB, workspaceID int64, in ReportInput, streams []reportStream, after *Cursor, limit int) ([]Event, *Cursor, error) {
	if limit <= 0 {
		limit = reportDefaultLimit
	}
	var all []Event
	for _, s := range streams {
		w := store.NewWhere("workspace_id = ?", workspaceID)
		if s.value != nil {
			w.And(s.cond, s.value)
		} else {
			w.And(s.cond)
		}
		w.
			And("occurred_at >= ?", store.Micros(in.from)).And("occurred_at < ?", store.Micros(in.until))
		if after != nil {
			w.And("(occurred_at, id) > (?, ?)", after.At, after.ID)
		}
		rows, err := db.Read().QueryContext(ctx, `SELECT `+eventColumns+` FROM activity_events WHERE `+w.String()+
			` ORDER BY occurred_at, id LIMIT `+w.Add(limit+1), w.Args...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			ev, err := scanEvent(rows)
			if err != nil {
				rows.Close()
				return nil, nil, err
			}
			all = append(all, ev)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	// Every event of the first limit in order is among the first limit+1
	// of its own stream, so merging the streams' pages is exact.
	slices.SortFunc(all, func(a, b Event) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	all = slices.CompactFunc(all, func(a, b Event) bool { return a.ID == b.ID })
	if len(all) <= limit {
		return all, nil, nil
	}
	all = all[:limit]
	last := all[limit-1]
	return all, &Cursor{At: store.Micros(last.OccurredAt), ID: last.ID}, nil
}

// eachReportEvent calls fn for every event of the streams in the range,
// oldest first, a batch at a time (bounded memory, no long read snapshot).
func eachReportEvent(ctx context.Context, db *store.DB, workspaceID int64, in ReportInput, streams []reportStream, fn func(Event) error) error {
	var after *Cursor
	for {
		evs, next, err := reportPage(ctx, db, workspaceID, in, streams, after, exportBatch)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if err := fn(ev); err != nil {
				return err
			}
		}
		if next == nil {
			return nil
		}
		after = next
	}
}

func accessEntry(ev Event) AccessEntry {
	e := AccessEntry{ID: ev.ID, At: ev.OccurredAt, ActorKind: ev.ActorKind, ActorID: ev.ActorID, ActorName: ev.ActorName,
		Action: ev.Action, EntityType: ev.EntityType, EntityID: ev.EntityID, Description: ev.Description, IP: ev.IP}
	vals, _ := asObject(ev.New)
	// The rows an event recorded: "rows" (lists, exports, reports), else
	// what some areas name it ("entries" of a ledger bundle); a read of
	// one entry is one row.
	for _, key := range []string{"rows", "entries"} {
		if raw, ok := vals[key]; ok {
			var n int64
			if json.Unmarshal(raw, &n) == nil {
				e.Rows = &n
				break
			}
		}
	}
	if e.Rows == nil && ev.EntityID != "" && ev.Action == Read {
		one := int64(1)
		e.Rows = &one
	}
	if raw, ok := vals["format"]; ok {
		_ = json.Unmarshal(raw, &e.Format)
	}
	return e
}

func configChange(ev Event) ConfigChange {
	return ConfigChange{ID: ev.ID, At: ev.OccurredAt, ActorKind: ev.ActorKind, ActorID: ev.ActorID, ActorName: ev.ActorName,
		Action: ev.Action, EntityType: ev.EntityType, EntityID: ev.EntityID, Description: ev.Description,
		Changes: ev.FieldChanges(), IP: ev.IP}
}

// FailedLoginRun is what a LOGIN_FAILED event that covers several refused
// attempts says (see the contract in internal/auth/loginfailures.go).
type FailedLoginRun struct {
	Email, IP   string
	Attempts    int64
	First, Last time.Time
}

// FailedLoginRun reads the run of refused logins ev covers; ok is false for
// any other event and for a LOGIN_FAILED of one attempt.
func (ev Event) FailedLoginRun() (run FailedLoginRun, ok bool) {
	if ev.Action != LoginFailed {
		return FailedLoginRun{}, false
	}
	raw, _ := ev.New.(json.RawMessage)
	var v struct {
		Email    string `json:"email"`
		Attempts int64  `json:"attempts"`
		FirstAt  string `json:"first_at"`
		LastAt   string `json:"last_at"`
	}
	if json.Unmarshal(raw, &v) != nil || v.Attempts < 2 {
		return FailedLoginRun{}, false
	}
	first, err1 := time.Parse(time.RFC3339, v.FirstAt)
	last, err2 := time.Parse(time.RFC3339, v.LastAt)
	if err1 != nil || err2 != nil {
		return FailedLoginRun{}, false
	}
	return FailedLoginRun{Email: v.Email, IP: ev.IP, Attempts: v.Attempts, First: first, Last: last}, true
}

// Text says the run in words, times in loc: "5 failed logins for x@y from
// 1.2.3.4 between 2026-12-07 09:00:01 and 09:00:59".
func (r FailedLoginRun) Text(loc *time.Location) string {
	first, last := r.First.In(loc), r.Last.In(loc)
	lastLayout := "15:04:05"
	if first.Format("2006-01-02") != last.Format("2006-01-02") {
		lastLayout = "2006-01-02 15:04:05"
	}
	return fmt.Sprintf("%d failed logins for %s from %s between %s and %s", r.Attempts, r.Email, r.IP,
		first.Format("2006-01-02 15:04:05"), last.Format(lastLayout))
}
