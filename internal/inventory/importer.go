package inventory

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

const (
	// MaxImportBytes caps an uploaded bulk-update file.
	MaxImportBytes = 10 << 20
	// MaxImportRows caps its data rows, so one transaction stays reasonable.
	MaxImportRows = 10_000
)

// BulkRow is one line of a bulk-update file: set the record of SKU at
// Location (and Lot) to Quantity. Row is its line number in the file.
type BulkRow struct {
	Row      int
	SKU      string
	Location string
	Lot      string
	Quantity string
	Reason   string
}

var bulkColumns = map[string]bool{"sku": true, "location": true, "lot": true, "quantity": true, "reason": true}

// ParseBulkFile reads a CSV (UTF-8, comma or semicolon separated) or XLSX
// bulk-update file whose first row names the columns sku, location,
// quantity and optionally lot and reason. Every problem is reported with its
// row; nothing is applied here.
func ParseBulkFile(r io.Reader) ([]BulkRow, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, fault.New(fault.Malformed, "could not read the file")
	}
	if len(data) > MaxImportBytes {
		return nil, &fault.Error{Kind: fault.TooLarge, Message: fmt.Sprintf("the file is larger than %d MB", MaxImportBytes>>20),
			Fields: map[string]string{"file": "too large"}}
	}
	if len(data) == 0 {
		return nil, fault.Field("file", "the file is empty")
	}
	var table [][]string
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		table, err = readXLSX(data)
	} else {
		table, err = readCSV(data)
	}
	if err != nil {
		return nil, err
	}
	return bulkRows(table)
}

func readCSV(data []byte) ([][]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		return nil, &fault.Error{Kind: fault.Invalid, Message: fmt.Sprintf("the file is not UTF-8 text (row %d); save it as CSV UTF-8", line),
			Fields: map[string]string{fmt.Sprintf("row %d", line): "not UTF-8 text"}}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, fault.Field("file", "not a text file")
	}
	firstLine, _, _ := bytes.Cut(data, []byte("\n"))
	cr := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(firstLine, []byte(";")) > bytes.Count(firstLine, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	var table [][]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &fault.Error{Kind: fault.Invalid, Message: fmt.Sprintf("row %d is not valid CSV: %v", pe.StartLine, pe.Err),
					Fields: map[string]string{fmt.Sprintf("row %d", pe.StartLine): "not valid CSV: " + pe.Err.Error()}}
			}
			return nil, fault.Field("file", "not valid CSV")
		}
		table = append(table, rec)
		if len(table) > MaxImportRows+1 {
			return nil, fault.Field("file", fmt.Sprintf("more than %d rows; split the file", MaxImportRows))
		}
	}
	return table, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

func readXLSX(data []byte) ([][]string, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: 64 << 20, UnzipXMLSizeLimit: 32 << 20})
	if err != nil {
		return nil, fault.Field("file", "not a readable XLSX workbook")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fault.Field("file", "the workbook has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, fault.Field("file", "the first sheet cannot be read")
	}
	defer rows.Close()
	var table [][]string
	for rows.Next() {
		cols, err := rows.Columns()
		if err != nil {
			return nil, fault.Field(fmt.Sprintf("row %d", len(table)+1), "cannot be read")
		}
		table = append(table, cols)
		if len(table) > MaxImportRows+1 {
			return nil, fault.Field("file", fmt.Sprintf("more than %d rows; split the file", MaxImportRows))
		}
	}
	return table, nil
}

// bulkRows checks the header and turns the table into rows, naming every
// bad row (up to 50) at once.
func bulkRows(table [][]string) ([]BulkRow, error) {
	if len(table) == 0 {
		return nil, fault.Field("file", "the file has no header row")
	}
	index := map[string]int{}
	for i, name := range table[0] {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if !bulkColumns[name] {
			return nil, fault.Field("column "+columnName(i), fmt.Sprintf("unknown column %q; use sku, location, quantity, lot, reason", name))
		}
		if _, dup := index[name]; dup {
			return nil, fault.Field("column "+columnName(i), fmt.Sprintf("column %q appears twice", name))
		}
		index[name] = i
	}
	for _, need := range []string{"sku", "location", "quantity"} {
		if _, ok := index[need]; !ok {
			return nil, fault.Field("file", fmt.Sprintf("the header row lacks the %q column", need))
		}
	}
	cell := func(rec []string, name string) string {
		i, ok := index[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	problems := fault.Fields{}
	seen := map[string]int{}
	var out []BulkRow
	for n, rec := range table[1:] {
		row := n + 2
		blank := true
		for _, v := range rec {
			if strings.TrimSpace(v) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		b := BulkRow{Row: row, SKU: cell(rec, "sku"), Location: cell(rec, "location"), Lot: cell(rec, "lot"), Quantity: cell(rec, "quantity"),
			Reason: cell(rec, "reason")}
		key := fmt.Sprintf("row %d", row)
		switch {
		case b.SKU == "":
			problems.Add(key, "sku is empty")
		case b.Location == "":
			problems.Add(key, "location is empty")
		case b.Quantity == "":
			problems.Add(key, "quantity is empty")
		case len(b.SKU) > 64 || len(b.Location) > 400 || len(b.Lot) > 64 || len(b.Reason) > 1000:
			problems.Add(key, "a value is too long")
		}
		dupKey := strings.Join([]string{b.SKU, b.Location, b.Lot}, "\x00")
		if first, dup := seen[dupKey]; dup {
			problems.Add(key, fmt.Sprintf("repeats row %d (same sku, location and lot)", first))
		} else {
			seen[dupKey] = row
		}
		out = append(out, b)
		if len(problems) >= 50 {
			break
		}
	}
	if err := problems.Err(); err != nil {
		return nil, rowError(problems)
	}
	if len(out) == 0 {
		return nil, fault.Field("file", "the file has no data rows")
	}
	return out, nil
}

func columnName(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return strconv.Itoa(i + 1)
	}
	return name
}

func rowError(problems fault.Fields) error {
	msg := fmt.Sprintf("%d rows have problems; nothing was changed", len(problems))
	if len(problems) == 1 {
		msg = "1 row has a problem; nothing was changed"
	}
	return &fault.Error{Kind: fault.Invalid, Message: msg, Fields: map[string]string(problems)}
}

// RowProblem is one line of an import's error report.
type RowProblem struct {
	Row     string
	Message string
}

// RowProblems lists an import error's per-row messages in row order.
func RowProblems(err error) []RowProblem {
	e, ok := fault.As(err)
	if !ok {
		return nil
	}
	var out []RowProblem
	for k, v := range e.Fields {
		out = append(out, RowProblem{Row: k, Message: v})
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimPrefix(out[i].Row, "row "))
		b, _ := strconv.Atoi(strings.TrimPrefix(out[j].Row, "row "))
		if a != b {
			return a < b
		}
		return out[i].Row < out[j].Row
	})
	return out
}

// BulkUpdate sets each row's record to its quantity in one transaction,
// creating records as needed; each change is logged as a correction
// (movement "bulk_update"). If any row is wrong, nothing is applied and the
// error names every bad row.
func BulkUpdate(ctx context.Context, db *store.DB, rows []BulkRow, o Options) (Result, error) {
	who, err := actor.Require(ctx, actor.MoveStock)
	if err != nil {
		return Result{}, err
	}
	f := fault.Fields{}
	validateOptions(&o, f)
	if err := f.Err(); err != nil {
		return Result{}, err
	}
	var res Result
	err = db.InTx(ctx, func(tx *store.Tx) error {
		res = Result{}
		problems := fault.Fields{}
		state := newTxState(ctx, tx, who.WorkspaceID)
		// Read the items, locations and records the rows name up front (on
		// PostgreSQL locking them), so that the rows' writes can be held and
		// sent together: four round trips a row before.
		sets := make([]Movement, len(rows))
		for i, row := range rows {
			sets[i] = bulkSet{row: row}
		}
		if err := state.prime(sets); err != nil {
			return err
		}
		if err := state.readAhead(sets); err != nil {
			return err
		}
		batch := newBatchEvent()
		var last *change
		for _, row := range rows {
			opts := o
			if row.Reason != "" {
				opts.Reason = row.Reason
			}
			if opts.Reason == "" {
				opts.Reason = "bulk update"
			}
			c := begin(ctx, tx, who, state, opts)
			c.batchID = actor.RequestFrom(ctx).RequestID
			c.batch = batch
			last = c
			m := bulkSet{row: row}
			if err := m.run(c); err != nil {
				if e, ok := fault.As(err); ok && e.Kind != fault.Internal {
					msg := e.Message
					for k, v := range e.Fields {
						msg = k + ": " + v
					}
					problems.Add(fmt.Sprintf("row %d", row.Row), msg)
					if len(problems) >= 50 {
						break
					}
					continue
				}
				return err
			}
			res.Entries = append(res.Entries, c.written...)
			res.Records = append(res.Records, c.touched()...)
		}
		if len(problems) > 0 {
			return rowError(problems)
		}
		if last == nil {
			return nil
		}
		if err := state.finishHeld(&res); err != nil {
			return err
		}
		return batch.note(last, "bulk update")
	})
	if err != nil {
		return Result{}, err
	}
	if len(rows) >= largeImport {
		// Best effort: the import has committed, and stale statistics only
		// slow queries down until autovacuum catches up.
		_ = db.RefreshStatistics(context.WithoutCancel(ctx), "inventory_log", "inventory_records", "stock_levels", "inventory_checkpoints")
	}
	return res, nil
}

// largeImport is the number of rows from which an import refreshes the
// planner's statistics (store.DB.RefreshStatistics): in a young workspace
// one file may be most of what its tables hold.
const largeImport = 1000

type bulkSet struct{ row BulkRow }

func (m bulkSet) Kind() string   { return "bulk_update" }
func (m bulkSet) opts() *Options { return &Options{} }
func (m bulkSet) refs() ([]ItemRef, []LocationRef) {
	return []ItemRef{{SKU: m.row.SKU}}, []LocationRef{{Location: m.row.Location}}
}

func (m bulkSet) run(c *change) error {
	it, err := c.item(ItemRef{SKU: m.row.SKU})
	if err != nil {
		return err
	}
	loc, err := c.location(LocationRef{Location: m.row.Location}, "location")
	if err != nil {
		return err
	}
	lot, err := cleanLot("lot", m.row.Lot)
	if err != nil {
		return err
	}
	counted, err := ParseQuantity(m.row.Quantity, it.Scale)
	if err != nil {
		return fault.Field("quantity", err.Error())
	}
	if counted < 0 {
		return fault.Field("quantity", "a counted quantity may not be negative")
	}
	id, ok := c.state.aheadID(recordKey{it.ID, loc.ID, lot})
	if !ok {
		if id, err = c.ensure(it, loc, lot); err != nil {
			return err
		}
	}
	r, err := c.lockOne(id)
	if err != nil {
		return err
	}
	old := r.Quantity
	if d := counted - r.Quantity; d != 0 {
		if err := c.apply(r, d, "bulk_update", actionFor(c.who, true), "quantity"); err != nil {
			return err
		}
	}
	return c.recordEvent("bulk_update", r, old, fmt.Sprintf("row %d set %s at %s to %s %s", m.row.Row, it.SKU, loc.Path, counted.Format(it.Scale), it.Unit))
}
