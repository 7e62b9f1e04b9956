package inventory

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/export"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// ExportFormat is a file format of the change-log export.
type ExportFormat string

const (
	XLSX ExportFormat = "xlsx"
	CSV  ExportFormat = "csv"
)

// ParseExportFormat accepts xlsx (the default) or csv.
func ParseExportFormat(s string) (ExportFormat, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "xlsx":
		return XLSX, nil
	case "csv":
		return CSV, nil
	}
	return "", fault.Field("format", "must be xlsx or csv")
}

// ContentType is the MIME type of the format.
func (f ExportFormat) ContentType() string {
	if f == CSV {
		return "text/csv; charset=utf-8"
	}
	return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
}

// exportColumns puts the seed's columns first (SKU, Quantity, Unit, Action
// type, User, Station, Timestamp) and the rest of each entry after them.
// Timestamp is the recorded time; Effective at is when the movement happened.
// Ledger sequence is the entry's place in its workspace's ledger, empty
// until the sealer has sealed it; it is the last column, as in the Activity
// Log's export. Allocated change and Allocated after are the change to the
// record's allocated quantity (allocate, release, ship) and the record's
// allocated quantity after the entry; added later, they come just before
// it, so that the columns before them keep their places.
var exportColumns = []export.Column{
	{Title: "SKU", Kind: export.Text, Width: 16},
	{Title: "Quantity", Kind: export.Number},
	{Title: "Unit", Kind: export.Text, Width: 8},
	{Title: "Action type", Kind: export.Text, Width: 16},
	{Title: "User", Kind: export.Text},
	{Title: "Station", Kind: export.Text},
	{Title: "Timestamp", Kind: export.Time},
	{Title: "API key", Kind: export.Text},
	{Title: "Effective at", Kind: export.Time},
	{Title: "Location", Kind: export.Text, Width: 20},
	{Title: "Lot", Kind: export.Text, Width: 12},
	{Title: "Record level after", Kind: export.Number},
	{Title: "Location level after", Kind: export.Number},
	{Title: "Movement", Kind: export.Text, Width: 14},
	{Title: "Reason", Kind: export.Text, Width: 30},
	{Title: "Reference", Kind: export.Text, Width: 20},
	{Title: "Idempotency key", Kind: export.Text, Width: 20},
	{Title: "Record", Kind: export.Integer, Width: 10},
	{Title: "Entry", Kind: export.Integer, Width: 10},
	{Title: "Allocated change", Kind: export.Number},
	{Title: "Allocated after", Kind: export.Number},
	{Title: "Ledger sequence", Kind: export.Integer, Width: 10},
}

// ExportLog streams every entry matching f (newest first) to w as XLSX or
// CSV, with times in the workspace's time zone, and records the export in
// the activity trail. Rows go from the query straight to the writer (see
// writeLog), so memory stays bounded whatever the size.
func ExportLog(ctx context.Context, db *store.DB, f LogFilter, format ExportFormat, w io.Writer) (rows int, err error) {
	a, err := actor.Require(ctx, actor.ViewInventory)
	if err != nil {
		return 0, err
	}
	if err := f.validate(); err != nil {
		return 0, err
	}
	// Every refusal must come before the first byte: after it, an error can
	// only cut the download short.
	if err := f.resolveSKU(ctx, db.Read(), a.WorkspaceID); err != nil {
		return 0, err
	}
	ws, err := workspace.Get(ctx, db)
	if err != nil {
		return 0, err
	}
	loc := ws.Settings.Location()
	var tw export.TableWriter
	if format == CSV {
		tw, err = export.NewCSV(w, exportColumns, loc)
	} else {
		tw, err = export.NewXLSX(w, exportColumns, loc, "Change log")
	}
	if err != nil {
		return 0, err
	}
	vw, ok := tw.(export.ValueWriter)
	if !ok {
		_ = tw.Close()
		return 0, fmt.Errorf("inventory: %s writer takes no typed values", format)
	}
	rows, err = writeLog(ctx, db, a.WorkspaceID, f, vw)
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rows, err
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := activity.Record(ctx, tx, activity.Event{Action: activity.Export, Category: activity.Inventory, EntityType: "inventory_log",
			New: map[string]any{"format": string(format), "rows": rows}, Description: fmt.Sprintf("inventory change log exported (%s, %d rows)", format, rows)})
		return err
	})
	return rows, err
}

// What the export reads of an entry: the columns it shows and nothing else,
// numbers first (exportInts and the ledger sequence, in the order of the x*
// constants), then text (exportTexts). On SQLite every column costs a few
// driver calls per row, each taking the connection's mutex, and its text a
// string allocation, so all of them are read there as one text, joined by
// the unit separator U+001F (see splitJoined); that takes half the CPU of
// reading them one by one.
const (
	exportInts  = `id, unit_scale, record_id, change, record_level, location_level, recorded_at, effective_at, allocated_change, allocated_level`
	exportTexts = `sku, unit, location_path, lot, movement, action, actor_kind, actor_name, reason, reference, idempotency_key`
	// sealedSeq is the entry's ledger sequence, NULL until it is sealed:
	// one probe of the unique index ledger_leaves_entry per row.
	sealedSeq = `(SELECT seq FROM ledger_leaves WHERE ledger_leaves.workspace_id = inventory_log.workspace_id
		AND ledger_leaves.log = 'inventory_log' AND ledger_leaves.entry_id = inventory_log.id)`
	exportSeparate = exportInts + ", " + sealedSeq + ", " + exportTexts
	// exportJoined is all of them as one column, what SQLite reads.
	// concat_ws would leave out a NULL: every one of these columns is NOT
	// NULL, and an unsealed entry's sequence is read as -1.
	exportJoined = "concat_ws('\x1f', " + exportInts + ", COALESCE(" + sealedSeq + ", -1), " + exportTexts + ")"
	// exportJoinedByRange is exportJoined for a whole log read in id
	// chunks: there each chunk's sequences are read beforehand in one range
	// scan of the index (readSealed), cheaper than a probe per row, and the
	// column holds only the placeholder -1.
	exportJoinedByRange = "concat_ws('\x1f', " + exportInts + ", -1, " + exportTexts + ")"
	textSeparator       = '\x1f'
)

// Numbers, as read.
const (
	xID = iota
	xScale
	xRecord
	xChange
	xRecordLevel
	xLocationLevel
	xRecordedAt
	xEffectiveAt
	xAllocatedChange
	xAllocatedLevel
	xSeq // -1 (or NULL on PostgreSQL): not sealed yet
	numInts
)

// Texts, as read (after the numbers).
const (
	tSKU = iota
	tUnit
	tLocation
	tLot
	tMovement
	tAction
	tActorKind
	tActorName
	tReason
	tReference
	tIdempotencyKey
	numTexts
)

// Reading is cut into batches of exportBatchRows rows. A whole log on
// SQLite is read in chunks of exportChunkIDs ids by exportReaders readers
// taking turns; each reader owns one batch more than a chunk fills, enough
// to read a whole chunk while the writer is busy with the previous one.
// Memory is bounded by readers × (chunk + batch) rows, whatever the
// export's size.
// (Variables so that tests can make them small.)
var (
	exportBatchRows = 512
	exportChunkIDs  = int64(8 * exportBatchRows)
)

const exportReaders = 2

// logBatch is a run of rows as the driver returned them.
type logBatch struct {
	vals []any // batch rows × columns values, row by row
	ptrs []any // &vals[i], for Scan
	n    int   // rows filled
	last bool  // the last batch of its chunk
	// sealed holds the sequences of the batch's chunk when they were read
	// apart from its rows (nil: they are in the rows).
	sealed *sealedRange
}

// sealedRange is the ledger sequences of the entries with ids lo to
// lo+len(seq)-1: seq[id-lo], or -1 for an entry not sealed yet.
type sealedRange struct {
	lo  int64
	seq []int64
}

func (s *sealedRange) at(id int64) int64 {
	if i := id - s.lo; i >= 0 && i < int64(len(s.seq)) {
		return s.seq[i]
	}
	return -1
}

// readSealed reads the ledger sequences of the workspace's entries with ids
// lo to hi, in one scan of a range of ledger_leaves_entry.
func readSealed(ctx context.Context, q store.Querier, workspaceID, lo, hi int64) (*sealedRange, error) {
	s := &sealedRange{lo: lo, seq: make([]int64, max(hi-lo+1, 0))}
	for i := range s.seq {
		s.seq[i] = -1
	}
	rows, err := q.QueryContext(ctx, `SELECT entry_id, seq FROM ledger_leaves
		WHERE workspace_id = $1 AND log = 'inventory_log' AND entry_id >= $2 AND entry_id <= $3`, workspaceID, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("inventory: export: ledger sequences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, err
		}
		if i := id - lo; i >= 0 && i < int64(len(s.seq)) {
			s.seq[i] = seq
		}
	}
	return s, rows.Err()
}

// logReader is one reading goroutine's batches: filled ones in full
// (closed when the reader stops), empty ones in free.
type logReader struct {
	full, free chan *logBatch
	err        error // set before full is closed
}

// writeLog reads the entries matching f and writes them to w.
//
// Reading (the driver's Next and Scan) costs more CPU than formatting
// (three fifths of a CSV export's on SQLite), so it runs on goroutines of
// its own, handing over
// batches of rows: on SQLite, a whole log is read in id ranges
// (exportChunkIDs each, newest first) by two readers taking turns, each in
// its own read transaction, and this goroutine writes the chunks in order.
// That is consistent because SQLite hands out ids in commit order
// (store.DB.IDsInCommitOrder) and entries never change: every id up to the
// last one seen when the export started is committed. Elsewhere one reader
// runs the query.
//
// Scanning goes into *any: the driver's int64 and string values are taken
// as they are, without database/sql's reflection-based conversion into
// typed destinations, and with no per-row Entry, time.Time or formatted
// quantity strings.
func writeLog(ctx context.Context, db *store.DB, workspaceID int64, f LogFilter, w export.ValueWriter) (int, error) {
	q := db.Read()
	columns := store.Pick(db, exportJoined, exportSeparate)
	joined := columns == exportJoined
	ncols := numInts + numTexts
	if joined {
		ncols = 1
	}
	whole := f.ItemID == 0 && f.SKU == "" && f.LocationID == 0 && f.RecordID == 0 && f.Action == "" && f.ActorKind == "" &&
		f.BatchID == "" && f.Reference == ""
	// Chunks are read by transactions of their own: together they see
	// every entry up to the last id only where ids are in commit order.
	byID := whole && db.IDsInCommitOrder()
	byRange := byID && joined
	if byRange {
		columns = exportJoinedByRange
	}
	query, args, err := logQuery(ctx, q, workspaceID, f, columns, 0, byID)
	if err != nil {
		return 0, err
	}
	// chunks[k] are the arguments of the k-th chunk's query.
	chunks := [][]any{args}
	if byID {
		// logQuery put the workspace's first and last id in args[1:3].
		chunks = chunks[:0]
		lo, hi := args[1].(int64), args[2].(int64)
		for top := hi; top >= lo && hi > 0; top -= exportChunkIDs {
			a := append([]any(nil), args...)
			a[1], a[2] = max(lo, top-exportChunkIDs+1), top
			chunks = append(chunks, a)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readers := make([]*logReader, min(len(chunks), exportReaders, max(1, runtime.GOMAXPROCS(0))))
	batchRows := exportBatchRows
	batches := int((exportChunkIDs+int64(batchRows)-1)/int64(batchRows)) + 1
	var wg sync.WaitGroup
	for r := range readers {
		rd := &logReader{full: make(chan *logBatch, batches), free: make(chan *logBatch, batches)}
		for range batches {
			b := &logBatch{vals: make([]any, batchRows*ncols), ptrs: make([]any, batchRows*ncols)}
			for i := range b.vals {
				b.ptrs[i] = &b.vals[i]
			}
			rd.free <- b
		}
		readers[r] = rd
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(rd.full)
			for k := r; k < len(chunks); k += len(readers) {
				var sealed *sealedRange
				if byRange {
					// Read before the rows: an entry sealed in between
					// shows as not sealed yet, as it was a moment ago.
					if sealed, rd.err = readSealed(ctx, q, workspaceID, chunks[k][1].(int64), chunks[k][2].(int64)); rd.err != nil {
						return
					}
				}
				if rd.err = readLog(ctx, q, query, chunks[k], ncols, batchRows, sealed, rd); rd.err != nil {
					return
				}
			}
		}()
	}

	rw := logRowWriter{w: w, values: make([]export.Value, len(exportColumns))}
	if joined {
		rw.reread = func(id int64, texts *[numTexts]string) error {
			return rereadTexts(ctx, q, workspaceID, id, texts)
		}
	}
	rows := 0
write:
	for k := range chunks {
		rd := readers[k%len(readers)]
		for {
			b, ok := <-rd.full
			if !ok {
				break write // the reader failed; its error is below
			}
			for r := 0; r < b.n && err == nil; r++ {
				if err = rw.write(b.vals[r*ncols:(r+1)*ncols], b.sealed); err == nil {
					rows++
				}
			}
			last := b.last
			clear(b.vals[:b.n*ncols]) // drop the strings
			b.n, b.last, b.sealed = 0, false, nil
			rd.free <- b
			if err != nil {
				break write
			}
			if last {
				break
			}
		}
	}
	// Stop the readers (a no-op once they are done) and wait for them:
	// they never block on full, and give up waiting on free once ctx ends.
	cancel()
	wg.Wait()
	for _, rd := range readers {
		if err == nil && rd.err != nil {
			err = rd.err
		}
	}
	return rows, err
}

// readLog runs the query for one chunk and hands its rows over in batches
// from rd.free, the last one marked and each carrying sealed, until the
// rows run out or ctx ends.
func readLog(ctx context.Context, q store.Querier, query string, args []any, ncols, batchRows int, sealed *sealedRange, rd *logReader) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var b *logBatch
	for {
		if b == nil {
			select {
			case b = <-rd.free:
				b.sealed = sealed
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !rows.Next() {
			break
		}
		if err := rows.Scan(b.ptrs[b.n*ncols : (b.n+1)*ncols]...); err != nil {
			return err
		}
		if b.n++; b.n == batchRows {
			rd.full <- b // never blocks: full has room for every batch
			b = nil
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	b.last = true
	rd.full <- b
	return nil
}

// rereadTexts reads an entry's text columns one by one: for the rare entry
// whose text holds the separator itself.
func rereadTexts(ctx context.Context, q store.Querier, workspaceID, id int64, texts *[numTexts]string) error {
	dest := make([]any, numTexts)
	for i := range texts {
		dest[i] = &texts[i]
	}
	return q.QueryRowContext(ctx, `SELECT `+exportTexts+` FROM inventory_log WHERE workspace_id = $1 AND id = $2`, workspaceID, id).Scan(dest...)
}

// logRowWriter turns the values read of one entry into a row of
// exportColumns.
type logRowWriter struct {
	w      export.ValueWriter
	values []export.Value
	// reread fetches the texts of an entry whose joined columns do not
	// split apart.
	reread func(id int64, texts *[numTexts]string) error
	// The system actor's name with its suffix, kept for the next row: the
	// same party usually writes many entries in a row.
	systemName, systemLabel string
}

// write writes the values read of one entry; sealed, when not nil, has
// its ledger sequence.
func (rw *logRowWriter) write(v []any, sealed *sealedRange) error {
	var ints [numInts]int64
	var texts [numTexts]string
	if len(v) == 1 {
		s, ok := v[0].(string)
		if !ok {
			return fmt.Errorf("inventory: export: unexpected %T from the driver", v[0])
		}
		whole, err := splitJoined(s, &ints, &texts)
		if err != nil {
			return err
		}
		if !whole {
			// A text held the separator: read the texts one by one.
			if err := rw.reread(ints[xID], &texts); err != nil {
				return err
			}
		}
	} else {
		for i, x := range v[:numInts] {
			switch x := x.(type) {
			case int64:
				ints[i] = x
			case int32:
				ints[i] = int64(x)
			case nil:
				if i != xSeq {
					return fmt.Errorf("inventory: export: column %d: unexpected NULL from the driver", i)
				}
				ints[i] = -1
			default:
				return fmt.Errorf("inventory: export: column %d: unexpected %T from the driver", i, x)
			}
		}
		for i, x := range v[numInts:] {
			switch x := x.(type) {
			case string:
				texts[i] = x
			case []byte:
				texts[i] = string(x)
			default:
				return fmt.Errorf("inventory: export: column %d: unexpected %T from the driver", numInts+i, x)
			}
		}
	}
	scale := int(ints[xScale])
	user, station, key := "", "", ""
	switch name := texts[tActorName]; texts[tActorKind] {
	case "user":
		user = name
	case "station":
		station = name
	case "api_key":
		key = name
	default:
		if name != rw.systemName || rw.systemLabel == "" {
			rw.systemName, rw.systemLabel = name, name+" (system)"
		}
		user = rw.systemLabel
	}
	r := rw.values
	r[0], r[1], r[2], r[3] = export.Str(texts[tSKU]), quantityValue(ints[xChange], scale), export.Str(texts[tUnit]), export.Str(texts[tAction])
	r[4], r[5], r[6], r[7] = export.Str(user), export.Str(station), export.Micros(ints[xRecordedAt]), export.Str(key)
	r[8], r[9], r[10] = export.Micros(ints[xEffectiveAt]), export.Str(texts[tLocation]), export.Str(texts[tLot])
	r[11], r[12] = quantityValue(ints[xRecordLevel], scale), quantityValue(ints[xLocationLevel], scale)
	r[13], r[14], r[15], r[16] = export.Str(texts[tMovement]), export.Str(texts[tReason]), export.Str(texts[tReference]), export.Str(texts[tIdempotencyKey])
	r[17], r[18] = export.Int(ints[xRecord]), export.Int(ints[xID])
	r[19], r[20] = quantityValue(ints[xAllocatedChange], scale), quantityValue(ints[xAllocatedLevel], scale)
	r[21] = export.Value{}
	seq := ints[xSeq]
	if sealed != nil {
		seq = sealed.at(ints[xID])
	}
	if seq >= 0 {
		r[21] = export.Int(seq)
	}
	return rw.w.WriteValues(r)
}

// splitJoined cuts exportJoined apart: the numbers, then the texts (which
// share s's memory). It reports false if the texts do not come out as
// exactly numTexts parts: a text held the separator, and the parts cannot
// be told apart. The numbers come first, so they are right even then.
func splitJoined(s string, ints *[numInts]int64, texts *[numTexts]string) (bool, error) {
	for i := range numInts {
		at := strings.IndexByte(s, textSeparator)
		n, ok := parseInt(s[:max(at, 0)])
		if at < 0 || !ok {
			return false, fmt.Errorf("inventory: export: malformed number %d in %.100q", i, s)
		}
		ints[i], s = n, s[at+1:]
	}
	for i := range numTexts - 1 {
		at := strings.IndexByte(s, textSeparator)
		if at < 0 {
			return false, nil
		}
		texts[i], s = s[:at], s[at+1:]
	}
	if strings.IndexByte(s, textSeparator) >= 0 {
		return false, nil
	}
	texts[numTexts-1] = s
	return true, nil
}

// parseInt reads the decimal text SQLite renders an integer as: an
// optional minus and digits. It is strconv.ParseInt without the generality
// (bases, underscores, error values) that made it a tenth of the export's
// CPU; anything longer than 18 digits goes to strconv for its range checks.
func parseInt(s string) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	return n, true
}

// quantityValue is q as Quantity.Format(scale) writes it: scale decimals,
// more if the stored value has them.
func quantityValue(q int64, scale int) export.Value {
	scale = min(max(scale, 0), QuantityScale)
	for scale < QuantityScale && q%pow10[QuantityScale-scale] != 0 {
		scale++
	}
	return export.Scaled(q/pow10[QuantityScale-scale], scale)
}

var pow10 = [QuantityScale + 1]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000}
