package activity

import (
	"cmp"
	"context"
	"database/sql"
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

// Page sizes of the activity log and the audit-log API.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Actions lists every action the log records, for validating filters.
func Actions() []Action {
	return []Action{Create, Update, Delete, Read, Login, Logout, LoginFailed, SessionExpired, PasswordChange,
		RoleChange, Revoke, Export, APICall, APIError}
}

// Categories lists every category, for validating filters.
func Categories() []Category {
	return []Category{Authentication, Users, Products, Orders, Inventory, Assets, Configuration, API, Audit}
}

// ActorKinds are the kinds of responsible party an event may name.
func ActorKinds() []string {
	return []string{string(actor.User), string(actor.Station), string(actor.APIKey), string(actor.System), "anonymous"}
}

// Cursor marks where a page ended: the next page holds the events strictly
// older than it in (occurred_at, id) order. Reading on from a cursor costs
// the same on page 1 and page 100,000, unlike an offset.
type Cursor struct {
	At int64 // occurred_at, µs
	ID int64
}

// String encodes the cursor for a URL.
func (c Cursor) String() string { return fmt.Sprintf("%d_%d", c.At, c.ID) }

// ParseCursor reads what Cursor.String wrote.
func ParseCursor(s string) (Cursor, error) {
	at, id, ok := strings.Cut(s, "_")
	var c Cursor
	var err1, err2 error
	c.At, err1 = strconv.ParseInt(at, 10, 64)
	c.ID, err2 = strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || c.ID <= 0 {
		return Cursor{}, fault.Field("cursor", "not a cursor this server gave out")
	}
	return c, nil
}

// Filter selects events. Zero fields select everything; dates are kept as
// given (StartDate, EndDate) for describing the selection and as instants
// (From, Until) for the query.
type Filter struct {
	StartDate, EndDate string
	// From and Until bound occurred_at: From <= t < Until (zero: open).
	From, Until time.Time
	// ActorKind and ActorID name one responsible party; ActorID without a
	// kind matches that id of any kind.
	ActorKind  string
	ActorID    int64
	Action     Action
	Category   Category
	EntityType string
	EntityID   string
	// Text is a full-text search over the words of each event: every word
	// must appear. SearchIn narrows it to one field (see SearchFields).
	Text     string
	SearchIn string
	// After continues a listing from a cursor; Skip then skips that many
	// more. Limit is the page size (DefaultLimit when 0).
	After *Cursor
	Skip  int
	Limit int
}

// searchColumns are the fields a search can be narrowed to, and the text
// each one is.
var searchColumns = map[string]string{
	"actor":       "actor_name",
	"description": "description",
	"entity":      "entity_type || ' ' || entity_id",
	"values":      "COALESCE(old_values, '') || ' ' || COALESCE(new_values, '')",
	"ip":          "ip",
}

// SearchFields lists what a search can be narrowed to (search_in).
func SearchFields() []string { return []string{"actor", "description", "entity", "values", "ip"} }

// ParseFilter reads a filter from query parameters, shared by the web page
// and the audit-log API so both accept the same words: start_date, end_date
// (YYYY-MM-DD, inclusive, in loc, the workspace's time zone), user_id (the
// seed's name: a user actor), actor_kind and actor_id, action, category,
// table_name or entity_type, entity_id or record_id, q, cursor, skip, limit.
// Every problem is reported per field; nothing is guessed.
func ParseFilter(v url.Values, loc *time.Location) (Filter, error) {
	if loc == nil {
		loc = time.UTC
	}
	f := Filter{Limit: DefaultLimit}
	bad := fault.Fields{}
	day := func(name string) (time.Time, bool) {
		raw := strings.TrimSpace(v.Get(name))
		if raw == "" {
			return time.Time{}, false
		}
		t, err := time.ParseInLocation("2006-01-02", raw, loc)
		if err != nil {
			bad.Add(name, "use a date as YYYY-MM-DD, e.g. 2026-01-31")
			return time.Time{}, false
		}
		return t, true
	}
	if t, ok := day("start_date"); ok {
		f.StartDate, f.From = t.Format("2006-01-02"), t
	}
	if t, ok := day("end_date"); ok {
		// Inclusive: everything before the start of the next day. AddDate
		// keeps daylight-saving days right.
		f.EndDate, f.Until = t.Format("2006-01-02"), t.AddDate(0, 0, 1)
	}
	if !f.From.IsZero() && !f.Until.IsZero() && !f.From.Before(f.Until) {
		bad.Add("end_date", "must not be before start_date")
	}
	positive := func(name string) int64 {
		raw := strings.TrimSpace(v.Get(name))
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			bad.Add(name, "must be a positive whole number")
			return 0
		}
		return n
	}
	if id := positive("user_id"); id != 0 {
		f.ActorKind, f.ActorID = string(actor.User), id
	}
	if kind := strings.TrimSpace(v.Get("actor_kind")); kind != "" {
		if !slices.Contains(ActorKinds(), kind) {
			bad.Add("actor_kind", "must be one of "+strings.Join(ActorKinds(), ", "))
		} else if f.ActorKind != "" && f.ActorKind != kind {
			bad.Add("actor_kind", "user_id already selects user actors")
		} else {
			f.ActorKind = kind
		}
	}
	if id := positive("actor_id"); id != 0 {
		if f.ActorID != 0 && f.ActorID != id {
			bad.Add("actor_id", "conflicts with user_id")
		}
		f.ActorID = id
	}
	if a := strings.ToUpper(strings.TrimSpace(v.Get("action"))); a != "" {
		if !slices.Contains(Actions(), Action(a)) {
			bad.Add("action", "unknown action; use one of "+joinActions(Actions()))
		}
		f.Action = Action(a)
	}
	if c := strings.ToLower(strings.TrimSpace(v.Get("category"))); c != "" {
		if !slices.Contains(Categories(), Category(c)) {
			bad.Add("category", "unknown category")
		}
		f.Category = Category(c)
	}
	f.EntityType = strings.TrimSpace(firstOf(v, "table_name", "entity_type"))
	f.EntityID = strings.TrimSpace(firstOf(v, "entity_id", "record_id"))
	if len(f.EntityType) > 64 {
		bad.Add("table_name", "at most 64 characters")
	}
	if len(f.EntityID) > 128 {
		bad.Add("entity_id", "at most 128 characters")
	}
	f.Text = strings.TrimSpace(v.Get("q"))
	if len(f.Text) > 200 {
		bad.Add("q", "at most 200 characters")
	}
	if in := strings.ToLower(strings.TrimSpace(v.Get("search_in"))); in != "" && in != "all" {
		if _, ok := searchColumns[in]; !ok {
			bad.Add("search_in", "must be all, "+strings.Join(SearchFields(), ", "))
		}
		f.SearchIn = in
	}
	if raw := strings.TrimSpace(v.Get("cursor")); raw != "" {
		c, err := ParseCursor(raw)
		if err != nil {
			bad.Add("cursor", "not a cursor this server gave out")
		}
		f.After = &c
	}
	if raw := strings.TrimSpace(v.Get("skip")); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			bad.Add("skip", "must be a whole number, 0 or more")
		}
		f.Skip = n
	}
	if raw := strings.TrimSpace(v.Get("limit")); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxLimit {
			bad.Add("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxLimit))
		}
		f.Limit = n
	}
	if err := bad.Err(); err != nil {
		return Filter{}, err
	}
	return f, nil
}

func firstOf(v url.Values, names ...string) string {
	for _, n := range names {
		if s := v.Get(n); s != "" {
			return s
		}
	}
	return ""
}

func joinActions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// Describe lists the selection in words, one per line, for report headers
// and for the READ and EXPORT events that record who looked at what.
func (f Filter) Describe() []string {
	var out []string
	add := func(label, v string) {
		if v != "" {
			out = append(out, label+": "+v)
		}
	}
	add("From", f.StartDate)
	add("To", f.EndDate)
	if f.ActorKind != "" || f.ActorID != 0 {
		who := f.ActorKind
		if f.ActorID != 0 {
			who = strings.TrimSpace(who + " #" + strconv.FormatInt(f.ActorID, 10))
		}
		add("Actor", who)
	}
	add("Action", string(f.Action))
	add("Category", string(f.Category))
	add("Entity type", f.EntityType)
	add("Entity id", f.EntityID)
	if f.SearchIn != "" && f.Text != "" {
		add("Search", f.Text+" (in "+f.SearchIn+")")
	} else {
		add("Search", f.Text)
	}
	return out
}

// values is the selection as recorded in READ and EXPORT events.
func (f Filter) values() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"start_date": f.StartDate, "end_date": f.EndDate, "actor_kind": f.ActorKind,
		"action": string(f.Action), "category": string(f.Category), "entity_type": f.EntityType, "entity_id": f.EntityID, "q": f.Text, "search_in": f.SearchIn} {
		if v != "" {
			m[k] = v
		}
	}
	if f.ActorID != 0 {
		m["actor_id"] = f.ActorID
	}
	if f.Skip != 0 {
		m["skip"] = f.Skip
	}
	if f.After != nil {
		m["cursor"] = f.After.String()
	}
	return m
}

// pgSearchVector is the text of an event that full-text search sees on
// PostgreSQL. It must stay identical to the expression of the index in
// migration 00020 (whitespace included), or PostgreSQL stops using the index;
// it holds the same text as SQLite's full-text index (searchBody).
const pgSearchVector = `to_tsvector('simple', translate(
    actor_name || ' ' || action || ' ' || category || ' ' || entity_type || ' ' || entity_id || ' ' ||
    description || ' ' || COALESCE(old_values, '') || ' ' || COALESCE(new_values, '') || ' ' || ip,
    '@.:/-', '     '))`

// where builds the WHERE clause of f for one workspace; paging (cursor,
// skip, limit) is left to the caller. It asks SQLite how many events the
// search words match first (see searchPlan), so it needs ctx and db.
func (f Filter) where(ctx context.Context, db *store.DB, workspaceID int64) (string, []any, error) {
	conds := []string{"workspace_id = $1"}
	args := []any{workspaceID}
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if !f.From.IsZero() {
		add("occurred_at >= ?", store.Micros(f.From))
	}
	if !f.Until.IsZero() {
		add("occurred_at < ?", store.Micros(f.Until))
	}
	if f.ActorKind != "" {
		add("actor_kind = ?", f.ActorKind)
	}
	if f.ActorID != 0 {
		add("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		add("action = ?", string(f.Action))
	}
	if f.Category != "" {
		add("category = ?", string(f.Category))
	}
	if f.EntityType != "" {
		add("entity_type = ?", f.EntityType)
	}
	if f.EntityID != "" {
		add("entity_id = ?", f.EntityID)
	}
	if words := strings.Fields(f.Text); len(words) > 0 {
		if db.Engine() == store.Postgres {
			add(pgSearchVector+" @@ plainto_tsquery('simple', translate(?, '@.:/-', '     '))", strings.Join(words, " "))
		} else {
			if _, err := IndexSearch(ctx, db); err != nil {
				return "", nil, err
			}
			match := ftsQuery(words)
			few, err := fewMatches(ctx, db, match)
			if err != nil {
				return "", nil, err
			}
			if few {
				add("id IN (SELECT rowid FROM activity_events_fts WHERE activity_events_fts MATCH ?)", match)
			} else {
				// The unary + keeps SQLite from driving the query by id:
				// it walks the filter's index in page order and checks each
				// event against the set of matches.
				add("+id IN (SELECT rowid FROM activity_events_fts WHERE activity_events_fts MATCH ?)", match)
			}
		}
		// The full-text index finds the candidates; each word must then
		// also appear in the chosen field (a substring, any case).
		if col, ok := searchColumns[f.SearchIn]; ok {
			for _, w := range words {
				add("lower("+col+") LIKE ? ESCAPE '\\'", "%"+likeEscaper.Replace(strings.ToLower(w))+"%")
			}
		}
	}
	return strings.Join(conds, " AND "), args, nil
}

// ftsDrivingLimit is the number of matches up to which SQLite reads the
// matching events by id and sorts them; past it, walking the filter's index
// in page order and stopping after a page is cheaper.
const ftsDrivingLimit = 5000

// fewMatches reports whether an FTS5 query matches at most ftsDrivingLimit
// events. SQLite's planner cannot tell a rare word (read its few events by
// id: ~2 ms at 1M events) from a common one (sorting 70,000 matches took
// ~300 ms; walking the time index instead ~20 ms), so it is told. Counting
// reads only the word's doclist and stops at the limit.
func fewMatches(ctx context.Context, db *store.DB, match string) (bool, error) {
	var n int
	err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT rowid FROM activity_events_fts
		WHERE activity_events_fts MATCH $1 LIMIT $2)`, match, ftsDrivingLimit+1).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("count search matches: %w", err)
	}
	return n <= ftsDrivingLimit, nil
}

// likeEscaper makes a word match itself literally in LIKE.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ftsQuery turns the user's words into an FTS5 query that matches events
// holding every word. Each word is quoted, so FTS5 operators and syntax
// typed by the user (AND, NEAR, *, :, quotes) are searched as plain text.
func ftsQuery(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
	}
	return strings.Join(q, " ")
}

// Result is one page of events, newest first.
type Result struct {
	Events []Event
	// Next continues after the last event; nil on the last page.
	Next *Cursor
}

// List returns one page of the actor's workspace's events matching f,
// newest first, and records that the log was viewed (one READ event per
// page, never per row). The caller must hold ViewActivity.
func List(ctx context.Context, db *store.DB, f Filter) (Result, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return Result{}, err
	}
	res, err := query(ctx, db, a.WorkspaceID, f)
	if err != nil {
		return Result{}, err
	}
	vals := f.values()
	vals["rows"] = len(res.Events)
	err = RecordNow(ctx, db, Event{Action: Read, Category: Audit, EntityType: "activity_events", New: vals,
		Description: fmt.Sprintf("viewed the activity log (%d events)", len(res.Events))})
	return res, err
}

// ViewPermission is what reading the activity log takes.
const ViewPermission = actor.ViewActivity

func query(ctx context.Context, db *store.DB, workspaceID int64, f Filter) (Result, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	where, args, err := f.where(ctx, db, workspaceID)
	if err != nil {
		return Result{}, err
	}
	if f.After != nil {
		args = append(args, f.After.At, f.After.ID)
		where += fmt.Sprintf(" AND (occurred_at, id) < ($%d, $%d)", len(args)-1, len(args))
	}
	// One row more than asked says whether there is a next page.
	args = append(args, limit+1, f.Skip)
	rows, err := db.Read().QueryContext(ctx, `SELECT `+eventColumns+` FROM activity_events WHERE `+where+
		fmt.Sprintf(` ORDER BY occurred_at DESC, id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return Result{}, fmt.Errorf("list activity: %w", err)
	}
	defer rows.Close()
	var res Result
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return Result{}, err
		}
		res.Events = append(res.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return Result{}, err
	}
	if len(res.Events) > limit {
		res.Events = res.Events[:limit]
		last := res.Events[limit-1]
		res.Next = &Cursor{At: store.Micros(last.OccurredAt), ID: last.ID}
	}
	return res, nil
}

// Get returns one event of the actor's workspace and records that it was
// read.
func Get(ctx context.Context, db *store.DB, id int64) (Event, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return Event{}, err
	}
	ev, err := scanEvent(db.Read().QueryRowContext(ctx, `SELECT `+eventColumns+` FROM activity_events
		WHERE workspace_id = $1 AND id = $2`, a.WorkspaceID, id))
	if err != nil {
		return Event{}, store.NotFound(err, "audit log entry")
	}
	err = RecordNow(ctx, db, Event{Action: Read, Category: Audit, EntityType: "activity_events", EntityID: strconv.FormatInt(id, 10),
		Description: fmt.Sprintf("viewed audit log entry %d", id)})
	return ev, err
}

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
	where, args, err := f.where(ctx, db, workspaceID)
	if err != nil {
		return err
	}
	if db.Engine() == store.SQLite && f.unfiltered() {
		return summarizeByIndexes(ctx, db, where, args, acc)
	}
	return summarizeInOnePass(ctx, db, where, args, acc)
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
func summarizeInOnePass(ctx context.Context, db *store.DB, where string, args []any, acc *summaryAcc) error {
	rows, err := db.Read().QueryContext(ctx, `SELECT entity_type, action, actor_kind, COALESCE(actor_id, 0), MAX(actor_name), COUNT(*)
		FROM activity_events WHERE `+where+` GROUP BY entity_type, action, actor_kind, actor_id`, args...)
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
func summarizeByIndexes(ctx context.Context, db *store.DB, where string, args []any, acc *summaryAcc) error {
	s := &acc.s
	for _, g := range []struct {
		column string
		into   map[string]int64
	}{{"entity_type", s.ByTable}, {"action", s.ByAction}} {
		rows, err := db.Read().QueryContext(ctx, `SELECT `+g.column+`, COUNT(*) FROM activity_events WHERE `+where+` GROUP BY `+g.column, args...)
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
		FROM activity_events WHERE `+where+` GROUP BY actor_kind, actor_id`, args...)
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

// exportBatch is how many events an export reads per query: memory stays at
// one batch however long the export, and no read snapshot is held open for
// the whole download.
const exportBatch = 500

// ExportEvents streams every event matching f (its paging ignored), newest first,
// to fn, stopping after maxRows (0: no cap) or at fn's first error, and then
// records an EXPORT event with the format and the number of rows written,
// also when the export stopped early. It returns the number of rows written.
func ExportEvents(ctx context.Context, db *store.DB, f Filter, format string, maxRows int, fn func(Event) error) (int, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return 0, err
	}
	page := f
	page.Skip, page.After, page.Limit = 0, nil, exportBatch
	n := 0
	var streamErr error
	for streamErr == nil {
		res, err := query(ctx, db, a.WorkspaceID, page)
		if err != nil {
			streamErr = err
			break
		}
		for _, ev := range res.Events {
			if maxRows > 0 && n >= maxRows {
				break
			}
			if streamErr = fn(ev); streamErr != nil {
				break
			}
			n++
		}
		if res.Next == nil || (maxRows > 0 && n >= maxRows) {
			break
		}
		page.After = res.Next
	}
	vals := f.values()
	vals["format"], vals["rows"], vals["complete"] = format, n, streamErr == nil
	desc := fmt.Sprintf("exported %d activity events as %s", n, format)
	// The record of the export must survive a client that hung up midway.
	recordErr := RecordNow(context.WithoutCancel(ctx), db, Event{Action: Export, Category: Audit, EntityType: "activity_events",
		New: vals, Description: desc})
	if streamErr != nil {
		return n, streamErr
	}
	return n, recordErr
}

// RecordNow records ev in a transaction of its own, for events that are not
// part of a change: reads of the log, exports, API calls.
func RecordNow(ctx context.Context, db *store.DB, ev Event) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		_, err := Record(ctx, tx, ev)
		return err
	})
}

// Person is a user as filters offer it.
type Person struct {
	ID      int64
	Name    string
	Deleted bool
}

// People lists the workspace's users, deleted ones too (their events stay),
// for the user filter of the activity log.
func People(ctx context.Context, db *store.DB) ([]Person, error) {
	a, err := actor.Require(ctx, ViewPermission)
	if err != nil {
		return nil, err
	}
	rows, err := db.Read().QueryContext(ctx, `SELECT id, name, deleted_at IS NOT NULL FROM users
		WHERE workspace_id = $1 ORDER BY lower(name), id`, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.ID, &p.Name, &p.Deleted); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
