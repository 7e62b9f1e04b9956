package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

// inventoryCommand runs `stocktrail inventory import|export`: the bulk
// update and the change-log export from the command line, recorded as the
// system actor "command line".
func inventoryCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("inventory: use `inventory import FILE` or `inventory export --out FILE`")
	}
	switch args[0] {
	case "import":
		return inventoryImport(ctx, args[1:], stdout)
	case "export":
		return inventoryExport(ctx, args[1:], stdout)
	}
	return fmt.Errorf("inventory: unknown command %q", args[0])
}

func inventoryImport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("inventory import", flag.ContinueOnError)
	var d dbFlags
	d.register(fs)
	ws := fs.Int64("workspace", 0, "workspace id (default: the first)")
	reason := fs.String("reason", "", "reason recorded for rows without one")
	// The file comes first or last; flags may surround it.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("inventory import: %w", err)
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" {
		return fmt.Errorf("inventory import: name a CSV or XLSX file")
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := inventory.ParseBulkFile(f)
	if err != nil {
		return describeRows(err)
	}
	ctx, db, err := cliContext(ctx, &d, *ws)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := inventory.BulkUpdate(ctx, db, rows, inventory.Options{Reason: *reason, Reference: "import " + filepath.Base(file)})
	if err != nil {
		return describeRows(err)
	}
	fmt.Fprintf(stdout, "applied %d rows (%d log entries)\n", len(rows), len(res.Entries))
	return nil
}

// describeRows spells out an import's per-row problems.
func describeRows(err error) error {
	problems := inventory.RowProblems(err)
	if len(problems) == 0 {
		return describe(err)
	}
	var b strings.Builder
	b.WriteString(fault.PublicMessage(err))
	for _, p := range problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Row, p.Message)
	}
	return fmt.Errorf("%s", b.String())
}

func inventoryExport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("inventory export", flag.ContinueOnError)
	var d dbFlags
	d.register(fs)
	ws := fs.Int64("workspace", 0, "workspace id (default: the first)")
	out := fs.String("out", "", "file to write (required)")
	format := fs.String("format", "", "xlsx or csv (default: from --out's extension)")
	sku := fs.String("sku", "", "only this SKU")
	action := fs.String("action", "", "only this action type")
	from := fs.String("from", "", "recorded at or after (date or RFC 3339)")
	to := fs.String("to", "", "recorded before (a bare date includes that day)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("inventory export: --out is required")
	}
	if *format == "" {
		*format = strings.TrimPrefix(filepath.Ext(*out), ".")
	}
	f, err := inventory.ParseExportFormat(*format)
	if err != nil {
		return describe(err)
	}
	ctx, db, err := cliContext(ctx, &d, *ws)
	if err != nil {
		return err
	}
	defer db.Close()
	q := map[string][]string{"sku": {*sku}, "action": {*action}, "from": {*from}, "to": {*to}}
	filter, err := inventory.LogFilterFromQuery(q, inventory.WorkspaceZone(ctx, db))
	if err != nil {
		return describe(err)
	}
	file, err := os.Create(*out)
	if err != nil {
		return err
	}
	n, err := inventory.ExportLog(ctx, db, filter, f, file)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "wrote %d entries to %s\n", n, *out)
	return nil
}
