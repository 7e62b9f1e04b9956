package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// cliContext opens the database and returns a context whose actor is the
// command line itself, recorded in the activity log as a system actor.
func cliContext(ctx context.Context, d *dbFlags, workspaceID int64) (context.Context, *store.DB, error) {
	db, err := d.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	if workspaceID == 0 {
		w, err := workspace.First(ctx, db.Read())
		if err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("no workspace yet: start `stocktrail serve` once first")
		}
		workspaceID = w.ID
	} else if _, err := workspace.Get(actor.With(ctx, actor.SystemActor(workspaceID, "command line")), db); err != nil {
		db.Close()
		return nil, nil, describe(err)
	}
	name := "command line"
	if u := os.Getenv("USER"); u != "" {
		name += " (" + u + ")"
	}
	ctx = actor.With(ctx, actor.SystemActor(workspaceID, name))
	ctx = actor.WithRequest(ctx, actor.Request{UserAgent: "stocktrail-cli"})
	return ctx, db, nil
}

func userCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("user: say create, list or set-password")
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	var d dbFlags
	d.register(fs)
	ws := fs.Int64("workspace", 0, "workspace id (default: the first)")
	email := fs.String("email", "", "e-mail address")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "operator", "admin, manager, operator or auditor")
	password := fs.String("password", "", "password (default: generate one and print it)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	ctx, db, err := cliContext(ctx, &d, *ws)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := auth.New(db)
	pw := *password
	generated := pw == ""
	if generated {
		pw = auth.GeneratePassword()
	}
	switch args[0] {
	case "create":
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: *email, Name: *name, Role: actor.Role(*role), Password: pw})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created user %d %s (%s)\n", u.ID, u.Email, u.Role)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", pw)
		}
		return nil
	case "list":
		users, err := svc.ListUsers(ctx)
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tE-MAIL\tNAME\tROLE\tSTATUS")
		for _, u := range users {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Role, status)
		}
		return tw.Flush()
	case "set-password":
		users, err := svc.ListUsers(ctx)
		if err != nil {
			return describe(err)
		}
		for _, u := range users {
			if u.Email == *email {
				if _, err := svc.UpdateUser(ctx, u.ID, auth.UserChange{Password: &pw}); err != nil {
					return describe(err)
				}
				fmt.Fprintf(stdout, "password of %s changed\n", u.Email)
				if generated {
					fmt.Fprintf(stdout, "password: %s\n", pw)
				}
				return nil
			}
		}
		return fmt.Errorf("no user with e-mail %q in this workspace", *email)
	default:
		return fmt.Errorf("user: unknown subcommand %q (create, list, set-password)", args[0])
	}
}

func apikeyCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("apikey: say create")
	}
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	var d dbFlags
	d.register(fs)
	ws := fs.Int64("workspace", 0, "workspace id (default: the first)")
	name := fs.String("name", "", "what the key is for")
	role := fs.String("role", "", "admin, manager, operator or auditor")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	ctx, db, err := cliContext(ctx, &d, *ws)
	if err != nil {
		return err
	}
	defer db.Close()
	k, err := auth.New(db).CreateAPIKey(ctx, *name, actor.Role(*role))
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "created API key %d %q with role %s; it is shown only once:\n%s\n", k.ID, k.Name, k.Role, k.Secret)
	return nil
}

func stationCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("station: say create")
	}
	fs := flag.NewFlagSet("station create", flag.ContinueOnError)
	var d dbFlags
	d.register(fs)
	ws := fs.Int64("workspace", 0, "workspace id (default: the first)")
	name := fs.String("name", "", "station name")
	loc := fs.Int64("location", 0, "location id the station is bound to")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	ctx, db, err := cliContext(ctx, &d, *ws)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := auth.New(db).CreateStation(ctx, *name, *loc)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "registered station %d %q; its token is shown only once:\n%s\n", st.ID, st.Name, st.Token)
	return nil
}
