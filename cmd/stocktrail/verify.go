package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// keyList is a repeatable --key flag.
type keyList []string

func (k *keyList) String() string { return strings.Join(*k, ",") }
func (k *keyList) Set(v string) error {
	*k = append(*k, v)
	return nil
}

// verifyCommand runs `stocktrail verify`: against a live database, or
// offline against a bundle. Problems go to stdout one a line; when all
// holds the one-line summary follows them there and the exit status is 0,
// otherwise the summary is the error (printed last, on stderr) and the
// exit status 1.
func verifyCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	var d dbFlags
	d.register(fs)
	ws := fs.Int64("workspace", 0, "only this workspace (default: every one)")
	checkpoints := fs.String("checkpoint", "", "checkpoint log kept outside the database (serve --checkpoint-log)")
	bundle := fs.String("bundle", "", "verify this bundle offline, with no database")
	var keys keyList
	fs.Var(&keys, "key", "pinned verifier key (repeat for keys rotated out)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *bundle != "" {
		return verifyBundle(*bundle, keys, stdout)
	}
	opts := ledger.VerifyOptions{Workspace: *ws, Keys: keys}
	if *checkpoints != "" {
		b, err := os.ReadFile(*checkpoints)
		if err != nil {
			return err
		}
		if opts.Checkpoints, err = ledger.ParseCheckpointLog(b); err != nil {
			return fmt.Errorf("%s: %w", *checkpoints, err)
		}
	}
	// Opened, not migrated: verifying writes nothing.
	db, err := store.Open(ctx, store.Config{URL: d.url, DataDir: d.data})
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := ledger.Verify(ctx, db, opts)
	if err != nil {
		return err
	}
	for _, p := range r.Problems {
		fmt.Fprintln(stdout, p)
	}
	if !r.OK() {
		return errors.New(r.Summary())
	}
	fmt.Fprintln(stdout, r.Summary())
	return nil
}

func verifyBundle(path string, keys []string, stdout io.Writer) error {
	if len(keys) == 0 {
		return errors.New("verify --bundle: give the verifier key you trust with --key")
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := ledger.VerifyBundle(f, keys)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(stdout, p)
	}
	if !r.OK() {
		return errors.New(r.Summary())
	}
	fmt.Fprintln(stdout, r.Summary())
	return nil
}

// ledgerBundleCommand runs `stocktrail ledger bundle` (args start with
// "bundle"): a bundle for offline verification, read as the system actor
// "command line".
func ledgerBundleCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ledger bundle", flag.ContinueOnError)
	var d dbFlags
	d.register(fs)
	ws := fs.Int64("workspace", 0, "workspace id (default: the first)")
	out := fs.String("out", "", "file to write (required)")
	log := fs.String("log", "all", "inventory_log, activity_events or all")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("ledger bundle: --out is required")
	}
	var sel ledger.BundleSelection
	var err error
	if sel.Log, err = ledger.ParseBundleLog(*log); err != nil {
		return fmt.Errorf("ledger bundle: --log is inventory_log, activity_events or all")
	}
	ctx, db, err := cliContext(ctx, &d, *ws)
	if err != nil {
		return err
	}
	defer db.Close()
	file, err := os.Create(*out)
	if err != nil {
		return err
	}
	stats, err := ledger.WriteBundle(ctx, db, file, sel)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return describe(err)
	}
	fmt.Fprintf(stdout, "wrote %d entries proved against the checkpoint of size %d to %s", stats.Entries, stats.Size, *out)
	if stats.Unsealed > 0 {
		fmt.Fprintf(stdout, " (%d not sealed yet, left out)", stats.Unsealed)
	}
	fmt.Fprintln(stdout)
	return nil
}
