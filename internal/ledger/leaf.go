package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/stocktrail/stocktrail/internal/store"
)

// Log names one of the two logs whose entries are leaves.
type Log string

const (
	InventoryLog   Log = "inventory_log"
	ActivityEvents Log = "activity_events"
)

// Logs are the logs the ledger seals.
var Logs = []Log{InventoryLog, ActivityEvents}

// Valid reports whether l is one of Logs.
func (l Log) Valid() bool { return l == InventoryLog || l == ActivityEvents }

// column is one column of a log as the leaf encodes it.
type column struct {
	name string
	text bool // TEXT; otherwise an integer
}

func ints(names ...string) []column {
	out := make([]column, len(names))
	for i, n := range names {
		out[i] = column{name: n}
	}
	return out
}

func texts(names ...string) []column {
	out := make([]column, len(names))
	for i, n := range names {
		out[i] = column{name: n, text: true}
	}
	return out
}

// columns are every column of each log, in the order the leaf encodes them.
// A column added to a log must be added here (TestLeafCoversEveryColumn
// fails otherwise), at the end, with a new leaf version if old leaves would
// read differently (see laterColumns).
var columns = map[Log][]column{
	InventoryLog: concat(
		ints("workspace_id", "id", "item_id"),
		texts("sku", "unit"),
		ints("unit_scale", "record_id", "location_id"),
		texts("location_path", "lot", "movement", "action"),
		ints("change", "record_level", "location_level"),
		texts("actor_kind"),
		ints("actor_id"),
		texts("actor_name"),
		ints("recorded_at", "effective_at"),
		texts("reason", "reference", "idempotency_key", "batch_id"),
		// Leaf v2 (allocations, migration 00015).
		ints("allocated_change", "allocated_level"),
	),
	ActivityEvents: concat(
		ints("workspace_id", "id", "occurred_at"),
		texts("actor_kind"),
		ints("actor_id"),
		texts("actor_name", "action", "category", "entity_type", "entity_id", "old_values", "new_values",
			"description", "ip", "user_agent", "request_id", "reported_by_kind"),
		ints("reported_by_id"),
		texts("reported_by_name"),
	),
}

func concat(parts ...[]column) []column {
	var out []column
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// LeafVersion names the canonical encoding below; it is the first key of
// every encoded entry. LeafVersion2 is the same encoding with the columns
// a log gained later (laterColumns).
const (
	LeafVersion  = "stocktrail-leaf-v1"
	LeafVersion2 = "stocktrail-leaf-v2"
)

// laterColumns is how many of a log's last columns are v2 columns: an
// entry whose v2 columns all hold 0 is encoded as v1, without them, so every
// leaf sealed before they existed (when every entry read 0 there) keeps
// its hash; any other entry is encoded as v2, with them.
var laterColumns = map[Log]int{InventoryLog: 2}

// Encode is the canonical form of one entry, the data its leaf hash is the
// RFC 6962 record hash of (tlog.RecordHash: SHA-256 of 0x00 and the data).
// It is one JSON object on one line, keys in this fixed order: "v" (the
// leaf version), "log" (the table), then every column of the log in the
// order of the columns table above (a v1 entry without the v2 columns),
// integers as JSON integers, text as JSON strings (UTF-8, no HTML
// escaping), NULL as null.
func encode(log Log, values []any) []byte {
	var b bytes.Buffer
	b.Grow(512)
	cols, version := columns[log], LeafVersion
	if n := laterColumns[log]; n > 0 {
		v1 := len(cols) - n
		version = LeafVersion
		for _, v := range values[v1:] {
			if v != nil && v != any(int64(0)) {
				version = LeafVersion2
			}
		}
		if version == LeafVersion {
			cols = cols[:v1]
		}
	}
	b.WriteString(`{"v":"` + version + `","log":"` + string(log) + `"`)
	for i, c := range cols {
		b.WriteString(`,"` + c.name + `":`)
		switch v := values[i].(type) {
		case nil:
			b.WriteString("null")
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case string:
			writeString(&b, v)
		default:
			panic(fmt.Sprintf("ledger: %s.%s holds %T", log, c.name, v))
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// writeString writes s as a JSON string the way encoding/json does without
// HTML escaping. Most values are printable ASCII without quotes or
// backslashes, which it copies as they are; it leaves any other to
// encoding/json (escapes, invalid UTF-8, U+2028 and U+2029).
func writeString(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			enc := json.NewEncoder(b)
			enc.SetEscapeHTML(false)
			enc.Encode(s)
			b.Truncate(b.Len() - 1) // Encode's newline
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}

// LeafHash is the leaf hash of an entry's canonical form.
func LeafHash(data []byte) tlog.Hash { return tlog.RecordHash(data) }

// readEntries returns the canonical form of each entry of log with the
// given ids (those that exist) in workspace ws.
func readEntries(ctx context.Context, q store.Querier, on interface{ Engine() store.Engine }, ws int64, log Log, ids []int64) (map[int64][]byte, error) {
	cols := columns[log]
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	w := store.NewWhere("workspace_id = ?", ws).And(store.In(on, "id", ids))
	rows, err := q.QueryContext(ctx, `SELECT `+joinNames(names)+` FROM `+string(log)+` WHERE `+w.String(), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("read %s entries: %w", log, err)
	}
	defer rows.Close()
	out := make(map[int64][]byte, len(ids))
	for rows.Next() {
		data, id, err := scanEntry(rows, log)
		if err != nil {
			return nil, err
		}
		out[id] = data
	}
	return out, rows.Err()
}

// scanEntry reads one row selected with the log's columns in order.
func scanEntry(rows *sql.Rows, log Log) ([]byte, int64, error) {
	cols := columns[log]
	ns := make([]sql.NullInt64, len(cols))
	ss := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i, c := range cols {
		if c.text {
			dest[i] = &ss[i]
		} else {
			dest[i] = &ns[i]
		}
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, 0, fmt.Errorf("read %s entry: %w", log, err)
	}
	values := make([]any, len(cols))
	for i, c := range cols {
		switch {
		case c.text && ss[i].Valid:
			values[i] = ss[i].String
		case !c.text && ns[i].Valid:
			values[i] = ns[i].Int64
		}
	}
	return encode(log, values), ns[1].Int64, nil
}

func joinNames(names []string) string {
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
	}
	return b.String()
}
