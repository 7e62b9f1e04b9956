package assets

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/store"
)

// MaxImportRows bounds one CSV import so that it stays one reasonable
// transaction.
const MaxImportRows = 10000

// ImportColumns are the CSV header names understood by ImportAssets; tag and
// name are required, the others optional. location is a location path
// ("WH1/A/03").
var ImportColumns = []string{"tag", "name", "category", "status", "condition", "assignee", "location", "notes"}

// ImportAssets creates assets from CSV (with a header row) in one transaction:
// either every row is valid and all are created, or nothing is and the
// error names each bad row.
func ImportAssets(ctx context.Context, db *store.DB, r io.Reader) (int, error) {
	who, err := actor.Require(ctx, actor.ManageAssets)
	if err != nil {
		return 0, err
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return 0, fault.New(fault.Invalid, "the file is empty; the first row must name the columns: %s", strings.Join(ImportColumns, ", "))
	}
	if err != nil {
		return 0, fault.New(fault.Malformed, "not a readable CSV file: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := false
		for _, c := range ImportColumns {
			known = known || c == h
		}
		if !known {
			return 0, fault.New(fault.Invalid, "unknown column %q; use %s", h, strings.Join(ImportColumns, ", "))
		}
		col[h] = i
	}
	if _, ok := col["tag"]; !ok {
		return 0, fault.New(fault.Invalid, "the header must have a tag column")
	}
	if _, ok := col["name"]; !ok {
		return 0, fault.New(fault.Invalid, "the header must have a name column")
	}
	var records [][]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fault.New(fault.Malformed, "not a readable CSV file: %v", err)
		}
		if len(records) >= MaxImportRows {
			return 0, fault.New(fault.TooLarge, "at most %d rows per import", MaxImportRows)
		}
		records = append(records, rec)
	}
	if len(records) == 0 {
		return 0, fault.New(fault.Invalid, "the file has a header but no rows")
	}
	n := 0
	err = db.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		locs, err := inventory.ListLocations(ctx, tx, false)
		if err != nil {
			return err
		}
		byPath := map[string]int64{}
		for _, l := range locs {
			byPath[strings.ToLower(l.Path)] = l.ID
		}
		problems := fault.Fields{}
		seen := map[string]string{}
		for i, rec := range records {
			row := fmt.Sprintf("row %d", i+2)
			get := func(name string) *string {
				idx, ok := col[name]
				if !ok || idx >= len(rec) {
					return nil
				}
				v := strings.TrimSpace(rec[idx])
				return &v
			}
			in := AssetInput{Tag: get("tag"), Name: get("name"), Category: get("category"), Assignee: get("assignee"), Notes: get("notes")}
			if v := get("status"); v != nil && *v != "" {
				s := Status(strings.ReplaceAll(strings.ToLower(*v), " ", "_"))
				in.Status = &s
			}
			if v := get("condition"); v != nil && *v != "" {
				c := Condition(strings.ToLower(*v))
				in.Condition = &c
			}
			if v := get("location"); v != nil && *v != "" {
				id, ok := byPath[strings.ToLower(*v)]
				if !ok {
					problems.Add(row, "unknown location "+*v)
					continue
				}
				in.LocationID = &id
			}
			// Duplicates are caught before the INSERT: on PostgreSQL a unique
			// violation would abort the transaction and hide later rows' problems.
			if in.Tag != nil && *in.Tag != "" {
				key := *in.Tag
				if prev, dup := seen[key]; dup {
					problems.Add(row, fmt.Sprintf("tag %s repeats %s", *in.Tag, prev))
					continue
				}
				seen[key] = row
				var exists int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM assets WHERE workspace_id = $1 AND tag = $2`, who.WorkspaceID, *in.Tag).Scan(&exists); err != nil {
					return err
				}
				if exists > 0 {
					problems.Add(row, "an asset with tag "+*in.Tag+" already exists")
					continue
				}
			}
			if _, err := createAsset(ctx, tx, who, in); err != nil {
				if e, ok := fault.As(err); ok && e.Kind != fault.Internal {
					problems.Add(row, e.Message)
					continue
				}
				return err
			}
			n++
		}
		if len(problems) > 0 {
			return &fault.Error{Kind: fault.Invalid, Message: fmt.Sprintf("%d of %d rows have problems; nothing was imported", len(problems), len(records)),
				Fields: problems}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
