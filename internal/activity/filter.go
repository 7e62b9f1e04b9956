package activity

import (
	"context"
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

// Actions lists every action the log records, for validating filters.
func Actions() []Action {
	return []Action{Create, Update, Delete, Read, Login, Logout, LoginFailed, SessionExpired, PasswordChange,
		RoleChange, Revoke, Export, APICall, APIError, AlertRaised, AlertAcknowledged, EmailTest}
}

// Categories lists every category, for validating filters.
func Categories() []Category {
	return []Category{Authentication, Users, Products, Orders, Inventory, Assets, Configuration, API, Audit}
}

// ActorKinds are the kinds of responsible party an event may name.
func ActorKinds() []string {
	return []string{string(actor.User), string(actor.Station), string(actor.APIKey), string(actor.System), "anonymous"}
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
		t, _, ok := queryDay(v, name, loc, bad)
		return t, ok
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
	if n, given := queryLimit(v, bad); given {
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

// andCounted adds f's conditions on the columns the daily rollups count by
// (activity_daily_counts has them too), so events and rollups are
// narrowed alike.
func (f Filter) andCounted(w *store.Where) {
	if f.ActorKind != "" {
		w.And("actor_kind = ?", f.ActorKind)
	}
	if f.ActorID != 0 {
		w.And("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		w.And("action = ?", string(f.Action))
	}
	if f.Category != "" {
		if extra := seedCategoryTables[f.Category]; len(extra) > 0 {
			w.And("(category = ? OR "+inList("entity_type", len(extra))+")", append([]any{string(f.Category)}, anySlice(extra)...)...)
		} else {
			w.And("category = ?", string(f.Category))
		}
	}
	if f.EntityType != "" {
		// A seed table name selects the stored types it means (vocabulary.go).
		types := EntityTypesFor(f.EntityType)
		w.And(inList("entity_type", len(types)), anySlice(types)...)
	}
}

// where builds the WHERE clause of f for one workspace; paging (cursor,
// skip, limit) is left to the caller. It asks SQLite how many events the
// search words match first (see searchCondition), so it needs ctx and db.
func (f Filter) where(ctx context.Context, db *store.DB, workspaceID int64) (*store.Where, error) {
	w := store.NewWhere("workspace_id = ?", workspaceID)
	if !f.From.IsZero() {
		w.And("occurred_at >= ?", store.Micros(f.From))
	}
	if !f.Until.IsZero() {
		w.And("occurred_at < ?", store.Micros(f.Until))
	}
	f.andCounted(w)
	if f.EntityID != "" {
		w.And("entity_id = ?", f.EntityID)
	}
	if words := strings.Fields(f.Text); len(words) > 0 {
		cond, match, err := searchCondition(ctx, db, words)
		if err != nil {
			return nil, err
		}
		w.And(cond, match)
		// The full-text index finds the candidates; each word must then
		// also appear in the chosen field (a substring, any case).
		if col, ok := searchColumns[f.SearchIn]; ok {
			for _, word := range words {
				w.And("lower("+col+") LIKE ? ESCAPE '\\'", "%"+likeEscaper.Replace(strings.ToLower(word))+"%")
			}
		}
	}
	return w, nil
}

// queryDay reads the day v names (YYYY-MM-DD, a day in loc). given says
// whether it was sent at all; one that does not read as a day is added to
// bad and is not valid.
func queryDay(v url.Values, name string, loc *time.Location, bad fault.Fields) (day time.Time, given, valid bool) {
	raw := strings.TrimSpace(v.Get(name))
	if raw == "" {
		return time.Time{}, false, false
	}
	t, err := time.ParseInLocation("2006-01-02", raw, loc)
	if err != nil {
		bad.Add(name, "enter a date as YYYY-MM-DD, e.g. 2026-01-31")
		return time.Time{}, true, false
	}
	return t, true, true
}

// queryLimit reads the page size v names, 1 to MaxLimit; given says
// whether it was sent. One out of range is added to bad.
func queryLimit(v url.Values, bad fault.Fields) (n int, given bool) {
	raw := strings.TrimSpace(v.Get("limit"))
	if raw == "" {
		return 0, false
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > MaxLimit {
		bad.Add("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxLimit))
	}
	return n, true
}
