package activity

import (
	"context"
	"fmt"
	"strings"

	"github.com/stocktrail/stocktrail/internal/store"
)

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

// pgSearchVector is the text of an event that full-text search sees on
// PostgreSQL. It must stay identical to the expression of the index in
// migration 00020 (whitespace included), or PostgreSQL stops using the index;
// it holds the same text as SQLite's full-text index (searchBody).
const pgSearchVector = `to_tsvector('simple', translate(
    actor_name || ' ' || action || ' ' || category || ' ' || entity_type || ' ' || entity_id || ' ' ||
    description || ' ' || COALESCE(old_values, '') || ' ' || COALESCE(new_values, '') || ' ' || ip,
    '@.:/-', '     '))`

// searchCondition returns the condition that selects the events holding
// every word, with ? where its argument goes, and the argument. The engines
// search differently (a GIN index over a tsvector on PostgreSQL, an FTS5
// table on SQLite), so the condition is written once for each.
func searchCondition(ctx context.Context, db *store.DB, words []string) (string, any, error) {
	return store.Pick(db, sqliteSearchCondition, postgresSearchCondition)(ctx, db, words)
}

func postgresSearchCondition(_ context.Context, _ *store.DB, words []string) (string, any, error) {
	return pgSearchVector + " @@ plainto_tsquery('simple', translate(?, '@.:/-', '     '))", strings.Join(words, " "), nil
}

// sqliteSearchCondition brings the full-text index up to date first (see
// IndexSearch) and asks how many events the words match (see fewMatches).
func sqliteSearchCondition(ctx context.Context, db *store.DB, words []string) (string, any, error) {
	if _, err := IndexSearch(ctx, db); err != nil {
		return "", nil, err
	}
	match := ftsQuery(words)
	few, err := fewMatches(ctx, db, match)
	if err != nil {
		return "", nil, err
	}
	if few {
		return "id IN (SELECT rowid FROM activity_events_fts WHERE activity_events_fts MATCH ?)", match, nil
	}
	// The unary + keeps SQLite from driving the query by id: it walks the
	// filter's index in page order and checks each event against the set of
	// matches.
	return "+id IN (SELECT rowid FROM activity_events_fts WHERE activity_events_fts MATCH ?)", match, nil
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
