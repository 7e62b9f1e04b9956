package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// operatorContext opens the database with the install's operator as the
// actor: plans, workspaces and legal holds are theirs, not any workspace
// admin's.
func operatorContext(ctx context.Context, d *dbFlags) (context.Context, *store.DB, error) {
	db, err := d.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	name := "operator (command line)"
	if u := os.Getenv("USER"); u != "" {
		name = "operator (command line, " + u + ")"
	}
	ctx = actor.With(ctx, workspace.Operator(name))
	ctx = actor.WithRequest(ctx, actor.Request{UserAgent: "stocktrail-cli"})
	return ctx, db, nil
}

func workspaceCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("workspace: say create, list, set-plan or legal-hold")
	}
	fs := flag.NewFlagSet("workspace "+args[0], flag.ContinueOnError)
	var d dbFlags
	d.register(fs)
	var (
		id                                   *int64
		name, plan, email, adminName, reason *string
		on, off                              *bool
	)
	switch args[0] {
	case "create":
		name = fs.String("name", "", "the workspace's name")
		plan = fs.String("plan", "", "starter, business or enterprise")
		email = fs.String("admin-email", "", "e-mail address of the first admin")
		adminName = fs.String("admin-name", "Administrator", "name of the first admin")
	case "list":
	case "set-plan":
		id = fs.Int64("workspace", 0, "workspace id (see workspace list)")
		plan = fs.String("plan", "", "starter, business or enterprise")
	case "legal-hold":
		id = fs.Int64("workspace", 0, "workspace id (see workspace list)")
		on = fs.Bool("on", false, "place a legal hold: nothing of the workspace is purged until it is lifted")
		off = fs.Bool("off", false, "lift the legal hold")
		reason = fs.String("reason", "", "why (a case or request reference); kept in the workspace's activity log")
	default:
		return fmt.Errorf("workspace: unknown subcommand %q (create, list, set-plan, legal-hold)", args[0])
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if args[0] == "legal-hold" && *on == *off {
		return describe(fault.Field("on", "say --on to place the hold or --off to lift it"))
	}
	// Bad input names the field before the database is opened (and, for a
	// new install, created).
	var p workspace.Plan
	if plan != nil {
		var err error
		if p, err = workspace.ParsePlan(*plan); err != nil {
			return describe(err)
		}
	}
	ctx, db, err := operatorContext(ctx, &d)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "create":
		password := auth.GeneratePassword()
		w, u, err := auth.New(db).CreateWorkspace(ctx, auth.WorkspaceInput{Name: strings.TrimSpace(*name), Plan: p,
			AdminEmail: *email, AdminName: *adminName, AdminPassword: password})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created workspace %d %q on the %s plan (activity kept %d days)\n", w.ID, w.Name, w.Plan.Title(), w.ActivityRetentionDays)
		fmt.Fprintf(stdout, "first admin: %s\npassword: %s\n(shown only this once; they change it under Settings → Users)\n", u.Email, password)
		return nil
	case "list":
		list, err := workspace.List(ctx, db.Read())
		if err != nil {
			return describe(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPLAN\tRETENTION\tLEGAL HOLD\tUSERS\tCREATED")
		for _, s := range list {
			hold := "no"
			if s.LegalHold {
				hold = "yes: " + s.LegalHoldReason
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d days\t%s\t%d\t%s\n", s.ID, s.Name, s.Plan.Title(), s.ActivityRetentionDays, hold, s.Users,
				s.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		return tw.Flush()
	case "set-plan":
		w, err := workspace.SetPlan(ctx, db, *id, p)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "workspace %d %q is on the %s plan: activity kept %d days\n", w.ID, w.Name, w.Plan.Title(), w.ActivityRetentionDays)
		if !w.LegalHold {
			fmt.Fprintf(stdout, "events older than that are purged at the next retention run\n")
		}
		return nil
	default: // legal-hold
		w, err := workspace.SetLegalHold(ctx, db, *id, *on, *reason)
		if err != nil {
			return describe(err)
		}
		if w.LegalHold {
			fmt.Fprintf(stdout, "legal hold placed on workspace %d %q: nothing is purged until it is lifted\n", w.ID, w.Name)
		} else {
			fmt.Fprintf(stdout, "legal hold lifted from workspace %d %q: retention (%s) applies again\n", w.ID, w.Name, w.RetentionRule())
		}
		return nil
	}
}
