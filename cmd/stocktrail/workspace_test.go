package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestWorkspaceCommands: the operator creates two workspaces from the
// command line, lists them, changes a plan and places and lifts a legal
// hold; each admin logs in to their own workspace and sees nothing of the
// other's. Bad input names the field and changes nothing. Both engines.
func TestWorkspaceCommands(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			where := []string{"--data", t.TempDir()}
			if engine == "postgres" {
				where = []string{"--db", pgtest.NewDatabase(t)}
			}
			cli := func(args ...string) (string, error) {
				t.Helper()
				return runCLI(t, append(args, where...)...)
			}
			password := regexp.MustCompile(`(?m)^password: (\S+)$`)
			out, err := cli("workspace", "create", "--name", "North warehouse", "--plan", "business", "--admin-email", "anna@north.example")
			if err != nil || !strings.Contains(out, `created workspace 1 "North warehouse" on the Business plan (activity kept 90 days)`) {
				t.Fatalf("create: %v %q", err, out)
			}
			northPassword := password.FindStringSubmatch(out)[1]
			out, err = cli("workspace", "create", "--name", "South shop", "--plan", "Starter", "--admin-email", "bo@south.example", "--admin-name", "Bo")
			if err != nil || !strings.Contains(out, "first admin: bo@south.example") {
				t.Fatalf("create: %v %q", err, out)
			}
			southPassword := password.FindStringSubmatch(out)[1]

			// Bad input names the field and creates nothing.
			for _, c := range []struct {
				args  []string
				field string
			}{
				{[]string{"workspace", "create", "--name", "X", "--plan", "gold", "--admin-email", "x@example.com"}, "plan"},
				{[]string{"workspace", "create", "--name", "X", "--plan", "starter"}, "admin_email"},
				{[]string{"workspace", "create", "--name", "X", "--plan", "starter", "--admin-email", "not an address"}, "admin_email"},
				{[]string{"workspace", "create", "--name", "X", "--plan", "starter", "--admin-email", "anna@north.example"}, "admin_email"},
				{[]string{"workspace", "create", "--name", "", "--plan", "starter", "--admin-email", "new@example.com"}, "name"},
				{[]string{"workspace", "set-plan", "--workspace", "1", "--plan", "free"}, "plan"},
				{[]string{"workspace", "set-plan", "--workspace", "99", "--plan", "starter"}, "workspace"},
				{[]string{"workspace", "legal-hold", "--workspace", "1", "--on"}, "reason"},
				{[]string{"workspace", "legal-hold", "--workspace", "1", "--reason", "x"}, "on"},
			} {
				if _, err := cli(c.args...); err == nil || !strings.Contains(err.Error(), c.field) {
					t.Errorf("%v: %v, want an error naming %s", c.args, err, c.field)
				}
			}

			out, err = cli("workspace", "set-plan", "--workspace", "2", "--plan", "enterprise")
			if err != nil || !strings.Contains(out, "Enterprise plan: activity kept 365 days") {
				t.Fatalf("set-plan: %v %q", err, out)
			}
			out, err = cli("workspace", "legal-hold", "--workspace", "1", "--on", "--reason", "case 7")
			if err != nil || !strings.Contains(out, "legal hold placed on workspace 1") {
				t.Fatalf("legal-hold: %v %q", err, out)
			}
			if _, err := cli("workspace", "legal-hold", "--workspace", "1", "--on", "--reason", "again"); err == nil || !strings.Contains(err.Error(), "already a legal hold") {
				t.Fatalf("second hold: %v", err)
			}
			out, err = cli("workspace", "list")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 || !regexp.MustCompile(`^1\s+North warehouse\s+Business\s+90 days\s+yes: case 7\s+1\s+20\d\d-`).MatchString(lines[1]) ||
				!regexp.MustCompile(`^2\s+South shop\s+Enterprise\s+365 days\s+no\s+1\s+20\d\d-`).MatchString(lines[2]) {
				t.Fatalf("list:\n%s", out)
			}
			out, err = cli("workspace", "legal-hold", "--workspace", "1", "--off", "--reason", "case 7 closed")
			if err != nil || !strings.Contains(out, "retention (Business plan: 90 days) applies again") {
				t.Fatalf("lift: %v %q", err, out)
			}

			// Each admin logs in to their own workspace and sees only it.
			ctx := context.Background()
			cfg := store.Config{DataDir: where[1]}
			if engine == "postgres" {
				cfg = store.Config{URL: where[1]}
			}
			db, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			svc := auth.New(db)
			north, err := svc.Login(ctx, "anna@north.example", northPassword)
			if err != nil {
				t.Fatal(err)
			}
			south, err := svc.Login(ctx, "bo@south.example", southPassword)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Login(ctx, "bo@south.example", northPassword); err == nil {
				t.Fatal("logged in with the other admin's password")
			}
			for _, c := range []struct {
				user  auth.User
				ws    int64
				name  string
				other string
			}{{north.User, 1, "North warehouse", "bo@south.example"}, {south.User, 2, "South shop", "anna@north.example"}} {
				as := actor.With(ctx, actor.Actor{WorkspaceID: c.user.WorkspaceID, Kind: actor.User, ID: c.user.ID, Name: c.user.Name, Role: c.user.Role})
				w, err := workspace.Get(as, db)
				if err != nil || w.ID != c.ws || w.Name != c.name {
					t.Fatalf("%s's workspace: %+v %v", c.user.Email, w, err)
				}
				users, err := svc.ListUsers(as)
				if err != nil || len(users) != 1 || users[0].Email != c.user.Email {
					t.Fatalf("%s sees users %+v %v", c.user.Email, users, err)
				}
				page, err := activity.List(as, db, activity.Filter{Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page.Events {
					if strings.Contains(e.Description, c.other) {
						t.Errorf("%s sees the other workspace's event %q", c.user.Email, e.Description)
					}
				}
			}
			// The plan change and the hold are the operator's events in the
			// workspace's own log.
			as := actor.With(ctx, actor.Actor{WorkspaceID: 1, Kind: actor.User, ID: north.User.ID, Name: "Anna", Role: actor.Admin})
			hist, err := activity.ForEntity(as, db, "workspaces", "1", 20)
			if err != nil {
				t.Fatal(err)
			}
			var descs []string
			for _, e := range hist {
				if e.ActorKind == "system" && e.Category == activity.Configuration {
					descs = append(descs, e.Description)
				}
			}
			joined := strings.Join(descs, " | ")
			for _, want := range []string{"legal hold placed by the operator: case 7", "legal hold lifted by the operator: case 7 closed", "workspace created"} {
				if !strings.Contains(joined, want) {
					t.Errorf("history of workspace 1 lacks %q: %s", want, joined)
				}
			}
		})
	}
}
