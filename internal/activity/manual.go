package activity

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

// ManualEntry is an audit-log entry posted by a person or process (seed
// 002's POST /api/v1/audit-logs) about an action done elsewhere.
type ManualEntry struct {
	// UserID is the user who acted (0: the poster itself).
	UserID int64
	// Username is the name to record; empty takes the user's current name.
	Username    string
	Action      Action
	TableName   string
	RecordID    string
	Old, New    json.RawMessage
	Description string
	// IP is where the action was done from; empty records the poster's.
	IP string
}

// ManualActions are the actions a manual entry may name (the seed's four).
func ManualActions() []Action { return []Action{Create, Update, Delete, Read} }

var tableNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// Report records a manual entry and returns its id. The entry names the
// user it is about as its actor, so filters by user find it, and keeps who
// actually posted it (user or API key) in the ReportedBy fields. Nothing is
// written unless every field is valid.
func Report(ctx context.Context, db *store.DB, in ManualEntry) (int64, error) {
	poster, err := actor.Require(ctx, actor.ManageAuditLogs)
	if err != nil {
		return 0, err
	}
	bad := fault.Fields{}
	in.Action = Action(strings.ToUpper(strings.TrimSpace(string(in.Action))))
	if !slices.Contains(ManualActions(), in.Action) {
		bad.Add("action", "must be CREATE, UPDATE, DELETE or READ")
	}
	in.TableName = strings.TrimSpace(in.TableName)
	switch {
	case in.TableName == "":
		bad.Add("table_name", "required")
	case len(in.TableName) > 64 || !tableNamePattern.MatchString(in.TableName):
		bad.Add("table_name", "a table name: letters, digits and _, at most 64 characters")
	}
	if len(in.RecordID) > 128 {
		bad.Add("record_id", "at most 128 characters")
	}
	if len(in.Description) > 2000 {
		bad.Add("description", "at most 2000 characters")
	}
	if len(in.Username) > 200 {
		bad.Add("username", "at most 200 characters")
	}
	if in.IP = strings.TrimSpace(in.IP); in.IP != "" {
		if _, err := netip.ParseAddr(in.IP); err != nil {
			bad.Add("ip_address", "not an IPv4 or IPv6 address")
		}
	}
	var err1, err2 error
	in.Old, err1 = objectOrNull(in.Old)
	in.New, err2 = objectOrNull(in.New)
	if err1 != nil {
		bad.Add("old_values", err1.Error())
	}
	if err2 != nil {
		bad.Add("new_values", err2.Error())
	}
	if in.UserID < 0 {
		bad.Add("user_id", "must be a positive id")
	}
	ev := Event{Action: in.Action, Category: CategoryOf(in.TableName), EntityType: in.TableName, EntityID: in.RecordID,
		Old: in.Old, New: in.New, Description: in.Description, IP: in.IP,
		ReportedByKind: string(poster.Kind), ReportedByID: poster.ID, ReportedByName: poster.Name}
	if in.UserID > 0 {
		var name string
		err := db.Read().QueryRowContext(ctx, `SELECT name FROM users WHERE workspace_id = $1 AND id = $2`,
			poster.WorkspaceID, in.UserID).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			bad.Add("user_id", "no user with this id in the workspace")
		} else if err != nil {
			return 0, err
		}
		ev.ActorKind, ev.ActorID, ev.ActorName = string(actor.User), in.UserID, name
		if u := strings.TrimSpace(in.Username); u != "" {
			ev.ActorName = u
		}
	}
	if err := bad.Err(); err != nil {
		return 0, err
	}
	if ev.Description == "" {
		ev.Description = strings.ToLower(string(in.Action)) + " " + in.TableName + " " + in.RecordID + " (reported by " + poster.Name + ")"
	}
	var id int64
	err = db.InTx(ctx, func(tx *store.Tx) error {
		ev.WorkspaceID = poster.WorkspaceID
		id, err = Record(ctx, tx, ev)
		return err
	})
	return id, err
}

// objectOrNull accepts a JSON object or null (also absent) for old and new
// values, which show field by field in histories; anything else is refused
// rather than stored in a shape nothing can show.
func objectOrNull(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' || !json.Valid(raw) {
		return nil, errors.New("must be a JSON object of field names and values, or null")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, errors.New("must be a JSON object")
	}
	return compact.Bytes(), nil
}

// CategoryOf files a table under the seed's categories, for entries that
// name only a table.
func CategoryOf(table string) Category {
	switch strings.ToLower(table) {
	case "users", "api_keys", "stations":
		return Users
	case "products", "items":
		return Products
	case "orders", "order_lines":
		return Orders
	case "inventory", "inventory_records", "movements", "transactions", "warehouses", "locations", "change_log":
		return Inventory
	case "assets", "inventory_sessions":
		return Assets
	case "workspaces", "settings":
		return Configuration
	}
	return Audit
}

// RecordIDText turns a JSON record id (string or number) into its text.
func RecordIDText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err == nil {
		if _, err := strconv.ParseFloat(string(n), 64); err == nil {
			return string(n), nil
		}
	}
	return "", fault.Field("record_id", "must be a string or a number")
}
