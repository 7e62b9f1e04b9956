package store

import "testing"

// $N becomes ?N in SQL, never inside a literal, a quoted name or a comment,
// whatever those hold.
func TestNumberPlaceholders(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`UPDATE t SET a = $2 WHERE id = $1`, `UPDATE t SET a = ?2 WHERE id = ?1`},
		{`SELECT $12, '$1', "$2", $3`, `SELECT ?12, '$1', "$2", ?3`},
		{`SELECT 'it''s $1', $1`, `SELECT 'it''s $1', ?1`},
		{"SELECT $1 -- don't bind $2 here\n, $2", "SELECT ?1 -- don't bind $2 here\n, ?2"},
		{"SELECT /* it's $1 */ $1", "SELECT /* it's $1 */ ?1"},
		{`SELECT json_extract(v, '$.a'), $1`, `SELECT json_extract(v, '$.a'), ?1`},
		{`SELECT 'unclosed $1`, `SELECT 'unclosed $1`},
		{"SELECT $1 --", "SELECT ?1 --"},
		{`SELECT $`, `SELECT $`},
	} {
		if got := numberPlaceholders(c.in); got != c.want {
			t.Errorf("numberPlaceholders(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
