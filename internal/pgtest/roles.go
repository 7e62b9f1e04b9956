package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// NewRole creates a login role with a password on the server of dbURL (a
// URL from NewDatabase, whose user may create roles) and returns its name,
// which starts with prefix and is unique on the server, and a URL to the
// same database as that role. attributes are added to CREATE ROLE as given
// (e.g. "CREATEROLE"). Roles belong to the whole server, so the role is
// dropped at cleanup, with whatever it owns or was granted in the database:
// call NewRole after NewDatabase, so that this runs before the database goes.
func NewRole(t testing.TB, dbURL, prefix string, attributes ...string) (name, roleURL string) {
	t.Helper()
	suffix, err := randomName()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	password, err := randomName()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name = prefix + strings.TrimPrefix(suffix, "t")
	quoted := pgx.Identifier{name}.Sanitize()
	create := "CREATE ROLE " + quoted + " LOGIN PASSWORD '%s' " + strings.Join(attributes, " ")
	if err := execOn(dbURL, fmt.Sprintf(create, password)); err != nil {
		t.Fatalf("pgtest: %s: %v", fmt.Sprintf(create, "…"), err)
	}
	t.Cleanup(func() {
		if err := execOn(dbURL, "DROP OWNED BY "+quoted+"; DROP ROLE "+quoted); err != nil {
			t.Errorf("pgtest: dropping role %s: %v", name, err)
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: database URL: %v", err)
	}
	u.User = url.UserPassword(name, password)
	return name, u.String()
}

// Exec runs statements on dbURL as its user (the superuser of the
// throwaway server), for a test's setup.
func Exec(t testing.TB, dbURL string, statements ...string) {
	t.Helper()
	for _, s := range statements {
		if err := execOn(dbURL, s); err != nil {
			t.Fatalf("pgtest: %s: %v", s, err)
		}
	}
}

func execOn(dbURL, statement string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", redact(dbURL), err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, statement)
	return err
}
