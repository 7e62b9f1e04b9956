// Package alerts owns alert rules and the alerts they raise (Configuration →
// Notifications): repeated failed logins, access outside business hours,
// bulk data exports, large stock corrections and stock changes outside
// business hours. Rules are evaluated as the ledger seals new log entries
// (follow.go), on one elected node, with the consumer's cursor advancing in
// the transaction that writes the alerts, so a restart neither loses nor
// repeats one. A burst raises one alert; later entries of the same burst
// join it as evidence (evaluate.go). An admin acknowledges an alert with an
// optional note. Raising and acknowledging are recorded as activity events
// (ALERT_RAISED, ALERT_ACKNOWLEDGED), which the webhook and e-mail senders
// deliver; every change to a rule is recorded as a configuration event.
package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Kind is what a rule watches for.
type Kind string

const (
	FailedLogins          Kind = "failed_logins"
	AfterHoursAccess      Kind = "after_hours_access"
	BulkExport            Kind = "bulk_export"
	LargeCorrection       Kind = "large_correction"
	AfterHoursStockChange Kind = "after_hours_stock_change"
)

// Kinds lists every kind, in the order the pages offer them.
func Kinds() []Kind {
	return []Kind{FailedLogins, AfterHoursAccess, BulkExport, LargeCorrection, AfterHoursStockChange}
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// Label is the kind's name as people say it.
func (k Kind) Label() string {
	switch k {
	case FailedLogins:
		return "Repeated failed logins"
	case AfterHoursAccess:
		return "Access outside business hours"
	case BulkExport:
		return "Bulk data export"
	case LargeCorrection:
		return "Large stock correction"
	case AfterHoursStockChange:
		return "Stock changes outside business hours"
	}
	return string(k)
}

// Explanation says in a sentence what the kind watches for.
func (k Kind) Explanation() string {
	switch k {
	case FailedLogins:
		return "Someone keeps failing to log in: to one account, or from one network address."
	case AfterHoursAccess:
		return "A person or API key logs in, reads, exports or changes anything outside the workspace's business hours and days."
	case BulkExport:
		return "Someone takes a large amount of data out: one large export, or many exports in a short time."
	case LargeCorrection:
		return "A stock correction changes a level by more than a quantity, or by more than a share of what was there."
	case AfterHoursStockChange:
		return "Stock is received, issued, moved or corrected outside the workspace's business hours and days."
	}
	return ""
}

// Log is the log a kind reads.
func (k Kind) Log() string {
	if k == LargeCorrection || k == AfterHoursStockChange {
		return logInventory
	}
	return logActivity
}

// The two logs, by their table names (as the ledger names them).
const (
	logActivity  = "activity_events"
	logInventory = "inventory_log"
)

// Per values of a failed-logins rule.
const (
	PerAccount = "account"
	PerAddress = "ip"
)

// Thresholds are a rule's numbers; which ones apply depends on its kind.
type Thresholds struct {
	// Attempts is how many failed logins within the window fire a
	// failed-logins rule; Per groups them by account or by IP address.
	Attempts int    `json:"attempts,omitempty"`
	Per      string `json:"per,omitempty"`
	// WindowMinutes is how close together entries must be to count as one
	// burst (every kind).
	WindowMinutes int `json:"window_minutes"`
	// Actions is how many actions outside business hours within the window
	// fire an after-hours rule (1: the first one does).
	Actions int `json:"actions,omitempty"`
	// RowsAbove fires a bulk-export rule on one export of more rows;
	// ExportsAbove on more exports than this by one party within the window.
	// Zero turns either check off.
	RowsAbove    int64 `json:"rows_above,omitempty"`
	ExportsAbove int   `json:"exports_above,omitempty"`
	// QuantityAbove (a decimal) and PercentAbove (of the level before) fire
	// a large-correction rule; an empty or zero value turns either off.
	QuantityAbove string `json:"quantity_above,omitempty"`
	PercentAbove  int    `json:"percent_above,omitempty"`
}

// Limits of the thresholds, shown in the forms' hints.
const (
	MaxWindowMinutes = 7 * 24 * 60
	MaxAttempts      = 10000
	MaxActions       = 10000
	MaxPercent       = 100000
	maxNameLength    = 100
	maxRecipients    = 20
)

// Rule is one alert rule of a workspace.
type Rule struct {
	ID         int64      `json:"id"`
	Kind       Kind       `json:"kind"`
	Name       string     `json:"name"`
	Enabled    bool       `json:"enabled"`
	Thresholds Thresholds `json:"thresholds"`
	// EmailTo are the addresses the e-mail sender notifies when the rule
	// raises an alert.
	EmailTo   []string  `json:"email_to"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// KindLabel is the rule's kind as people say it (for templates).
func (r Rule) KindLabel() string { return r.Kind.Label() }

// Condition describes the rule's thresholds in words.
func (r Rule) Condition() string {
	t := r.Thresholds
	window := minutesText(t.WindowMinutes)
	switch r.Kind {
	case FailedLogins:
		per := "one account"
		if t.Per == PerAddress {
			per = "one network address"
		}
		return fmt.Sprintf("%d failed logins within %s for %s", t.Attempts, window, per)
	case AfterHoursAccess:
		return fmt.Sprintf("%s outside business hours by one person or API key (a burst ends after %s without one)", plural(t.Actions, "action", "actions"), window)
	case BulkExport:
		var parts []string
		if t.RowsAbove > 0 {
			parts = append(parts, fmt.Sprintf("an export of more than %d rows", t.RowsAbove))
		}
		if t.ExportsAbove > 0 {
			parts = append(parts, fmt.Sprintf("more than %s within %s by one party", plural(t.ExportsAbove, "export", "exports"), window))
		}
		return strings.Join(parts, ", or ")
	case LargeCorrection:
		var parts []string
		if t.QuantityAbove != "" {
			parts = append(parts, "by more than "+t.QuantityAbove)
		}
		if t.PercentAbove > 0 {
			parts = append(parts, fmt.Sprintf("by more than %d%% of the level before", t.PercentAbove))
		}
		return "a correction that changes a level " + strings.Join(parts, ", or ")
	case AfterHoursStockChange:
		return fmt.Sprintf("%s outside business hours by one party (a burst ends after %s without one)", plural(t.Actions, "stock change", "stock changes"), window)
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func minutesText(m int) string {
	switch {
	case m%(24*60) == 0:
		return plural(m/(24*60), "day", "days")
	case m%60 == 0:
		return plural(m/60, "hour", "hours")
	}
	return plural(m, "minute", "minutes")
}

// window is the rule's burst window.
func (r Rule) window() time.Duration { return time.Duration(r.Thresholds.WindowMinutes) * time.Minute }

// RuleInput is a new rule or a rule's new state. Enabled defaults to on.
type RuleInput struct {
	Kind       Kind       `json:"kind"`
	Name       string     `json:"name"`
	Enabled    *bool      `json:"enabled"`
	Thresholds Thresholds `json:"thresholds"`
	EmailTo    []string   `json:"email_to"`
}

// DefaultThresholds are what a new rule of kind k starts with.
func DefaultThresholds(k Kind) Thresholds {
	switch k {
	case FailedLogins:
		return Thresholds{Attempts: 5, Per: PerAccount, WindowMinutes: 10}
	case AfterHoursAccess, AfterHoursStockChange:
		return Thresholds{Actions: 1, WindowMinutes: 60}
	case BulkExport:
		return Thresholds{RowsAbove: 10000, ExportsAbove: 5, WindowMinutes: 15}
	case LargeCorrection:
		return Thresholds{QuantityAbove: "100", PercentAbove: 50, WindowMinutes: 60}
	}
	return Thresholds{WindowMinutes: 60}
}

// Validate checks the input and names every field that is wrong; it also
// clears the thresholds the kind does not use and normalises the rest.
func (in *RuleInput) Validate() error {
	bad := fault.Fields{}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		bad.Add("name", "Enter a name for the rule")
	case len(in.Name) > maxNameLength:
		bad.Add("name", fmt.Sprintf("Use at most %d characters", maxNameLength))
	case plaintext.Problem(in.Name) != "":
		bad.Add("name", "The name "+plaintext.Problem(in.Name))
	case plaintext.Line("name", in.Name) != nil:
		bad.Add("name", "Write the name on one line")
	}
	if !in.Kind.Valid() {
		bad.Add("kind", "Choose what the rule watches for")
	}
	t := in.Thresholds
	if t.WindowMinutes < 1 || t.WindowMinutes > MaxWindowMinutes {
		bad.Add("window_minutes", fmt.Sprintf("Enter a number of minutes from 1 to %d (a week)", MaxWindowMinutes))
	}
	clean := Thresholds{WindowMinutes: t.WindowMinutes}
	switch in.Kind {
	case FailedLogins:
		if t.Attempts < 2 || t.Attempts > MaxAttempts {
			bad.Add("attempts", fmt.Sprintf("Enter a number of failed logins from 2 to %d", MaxAttempts))
		}
		if t.Per != PerAccount && t.Per != PerAddress {
			bad.Add("per", "Choose whether to count per account or per network address")
		}
		clean.Attempts, clean.Per = t.Attempts, t.Per
	case AfterHoursAccess, AfterHoursStockChange:
		if t.Actions < 1 || t.Actions > MaxActions {
			bad.Add("actions", fmt.Sprintf("Enter a number of actions from 1 to %d", MaxActions))
		}
		clean.Actions = t.Actions
	case BulkExport:
		if t.RowsAbove < 0 {
			bad.Add("rows_above", "Enter a number of rows of 0 or more (0 turns this check off)")
		}
		if t.ExportsAbove < 0 || t.ExportsAbove > MaxActions {
			bad.Add("exports_above", fmt.Sprintf("Enter a number of exports from 0 to %d (0 turns this check off)", MaxActions))
		}
		if t.RowsAbove == 0 && t.ExportsAbove == 0 {
			bad.Add("rows_above", "Enter a number of rows, a number of exports, or both")
		}
		clean.RowsAbove, clean.ExportsAbove = t.RowsAbove, t.ExportsAbove
	case LargeCorrection:
		q := strings.TrimSpace(t.QuantityAbove)
		if q != "" {
			v, err := inventory.ParseQuantity(q, inventory.QuantityScale)
			switch {
			case err != nil:
				bad.Add("quantity_above", "Enter a quantity such as 100 or 2.5")
			case v < 0:
				bad.Add("quantity_above", "Enter a quantity of 0 or more (0 or empty turns this check off)")
			case v == 0:
				q = ""
			default:
				q = v.String()
			}
		}
		if t.PercentAbove < 0 || t.PercentAbove > MaxPercent {
			bad.Add("percent_above", fmt.Sprintf("Enter a percentage from 0 to %d (0 turns this check off)", MaxPercent))
		}
		if q == "" && t.PercentAbove == 0 && bad["quantity_above"] == "" {
			bad.Add("quantity_above", "Enter a quantity, a percentage, or both")
		}
		clean.QuantityAbove, clean.PercentAbove = q, t.PercentAbove
	}
	var to []string
	for _, addr := range in.EmailTo {
		addr = strings.TrimSpace(addr)
		if addr == "" {
			continue
		}
		a, err := mail.ParseAddress(addr)
		if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
			bad.Add("email_to", fmt.Sprintf("%q is not an e-mail address such as name@example.com", addr))
			break
		}
		if !slices.Contains(to, a.Address) {
			to = append(to, a.Address)
		}
	}
	if len(to) > maxRecipients {
		bad.Add("email_to", fmt.Sprintf("Enter at most %d addresses", maxRecipients))
	}
	if err := bad.Err(); err != nil {
		return err
	}
	in.Thresholds, in.EmailTo = clean, to
	if to == nil {
		in.EmailTo = []string{}
	}
	return nil
}

// ParseRecipients splits a list of addresses typed by a person (commas,
// semicolons, spaces or lines between them).
func ParseRecipients(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// values is what the audit trail shows of a rule.
func (r Rule) values() map[string]any {
	v := map[string]any{"name": r.Name, "kind": string(r.Kind), "enabled": r.Enabled, "condition": r.Condition(),
		"email_to": strings.Join(r.EmailTo, ", ")}
	t := r.Thresholds
	v["window_minutes"] = t.WindowMinutes
	switch r.Kind {
	case FailedLogins:
		v["attempts"], v["per"] = t.Attempts, t.Per
	case AfterHoursAccess, AfterHoursStockChange:
		v["actions"] = t.Actions
	case BulkExport:
		v["rows_above"], v["exports_above"] = t.RowsAbove, t.ExportsAbove
	case LargeCorrection:
		v["quantity_above"], v["percent_above"] = t.QuantityAbove, t.PercentAbove
	}
	return v
}

const ruleColumns = `id, kind, name, enabled, params, email_to, created_at, updated_at`

func scanRule(row interface{ Scan(...any) error }) (Rule, error) {
	var r Rule
	var enabled int
	var params, to string
	var created, updated int64
	if err := row.Scan(&r.ID, &r.Kind, &r.Name, &enabled, &params, &to, &created, &updated); err != nil {
		return Rule{}, err
	}
	r.Enabled = enabled != 0
	r.CreatedAt, r.UpdatedAt = store.Time(created), store.Time(updated)
	if err := json.Unmarshal([]byte(params), &r.Thresholds); err != nil {
		return Rule{}, fmt.Errorf("alert rule %d thresholds: %w", r.ID, err)
	}
	r.EmailTo = []string{}
	if to != "" {
		r.EmailTo = strings.Split(to, ",")
	}
	return r, nil
}

// ListRules returns the workspace's rules, by name.
func ListRules(ctx context.Context, r store.Reader) ([]Rule, error) {
	a, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return nil, err
	}
	return listRules(ctx, r.Read(), a.WorkspaceID, false)
}

func listRules(ctx context.Context, q store.Querier, ws int64, enabledOnly bool) ([]Rule, error) {
	w := store.NewWhere("workspace_id = ?", ws)
	if enabledOnly {
		w.And("enabled = 1")
	}
	rows, err := q.QueryContext(ctx, `SELECT `+ruleColumns+` FROM alert_rules WHERE `+w.String()+` ORDER BY name, id`, w.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// GetRule returns one rule of the actor's workspace.
func GetRule(ctx context.Context, r store.Reader, id int64) (Rule, error) {
	a, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return Rule{}, err
	}
	return getRule(ctx, r.Read(), a.WorkspaceID, id, false)
}

func getRule(ctx context.Context, q store.Querier, ws, id int64, lock bool) (Rule, error) {
	query := `SELECT ` + ruleColumns + ` FROM alert_rules WHERE workspace_id = $1 AND id = $2`
	if tx, ok := q.(*store.Tx); ok && lock {
		query += tx.ForUpdate()
	}
	r, err := scanRule(q.QueryRowContext(ctx, query, ws, id))
	if err != nil {
		return Rule{}, store.NotFound(err, "alert rule")
	}
	return r, nil
}

// CreateRule adds a rule to the actor's workspace and records it.
func CreateRule(ctx context.Context, db *store.DB, in RuleInput) (Rule, error) {
	if _, err := actor.Require(ctx, actor.ManageAlerts); err != nil {
		return Rule{}, err
	}
	var out Rule
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = createRule(ctx, tx, in)
		return err
	})
	return out, err
}

func createRule(ctx context.Context, tx *store.Tx, in RuleInput) (Rule, error) {
	a, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return Rule{}, err
	}
	if err := in.Validate(); err != nil {
		return Rule{}, err
	}
	now := time.Now().UTC()
	r := Rule{Kind: in.Kind, Name: in.Name, Enabled: in.Enabled == nil || *in.Enabled, Thresholds: in.Thresholds,
		EmailTo: in.EmailTo, CreatedAt: now, UpdatedAt: now}
	params, _ := json.Marshal(r.Thresholds)
	err = tx.QueryRowContext(ctx, `INSERT INTO alert_rules (workspace_id, kind, name, enabled, params, email_to, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, a.WorkspaceID, string(r.Kind), r.Name, boolInt(r.Enabled),
		string(params), strings.Join(r.EmailTo, ","), store.Micros(now), store.Micros(now)).Scan(&r.ID)
	if store.IsUniqueViolation(err) {
		return Rule{}, fault.Field("name", "Another rule already has this name; choose another")
	}
	if err != nil {
		return Rule{}, fmt.Errorf("create alert rule: %w", err)
	}
	_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Configuration,
		EntityType: "alert_rules", EntityID: fmt.Sprint(r.ID), New: r.values(),
		Description: fmt.Sprintf("alert rule %q created: %s", r.Name, r.Condition())})
	return r, err
}

// UpdateRule replaces a rule's name, thresholds, recipients and on/off state
// (its kind stays) and records what changed, before → after.
func UpdateRule(ctx context.Context, db *store.DB, id int64, in RuleInput) (Rule, error) {
	a, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return Rule{}, err
	}
	var out Rule
	given := in
	err = db.InTx(ctx, func(tx *store.Tx) error {
		in := given // fn may run again (store.DB.InTx): start from what was given
		old, err := getRule(ctx, tx, a.WorkspaceID, id, true)
		if err != nil {
			return err
		}
		in.Kind = old.Kind
		if in.Enabled == nil {
			in.Enabled = &old.Enabled
		}
		if err := in.Validate(); err != nil {
			return err
		}
		r := old
		r.Name, r.Enabled, r.Thresholds, r.EmailTo = in.Name, *in.Enabled, in.Thresholds, in.EmailTo
		out, err = saveRule(ctx, tx, a.WorkspaceID, old, r)
		return err
	})
	return out, err
}

// SetRuleEnabled switches a rule on or off and records it.
func SetRuleEnabled(ctx context.Context, db *store.DB, id int64, enabled bool) (Rule, error) {
	a, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return Rule{}, err
	}
	var out Rule
	err = db.InTx(ctx, func(tx *store.Tx) error {
		old, err := getRule(ctx, tx, a.WorkspaceID, id, true)
		if err != nil {
			return err
		}
		r := old
		r.Enabled = enabled
		out, err = saveRule(ctx, tx, a.WorkspaceID, old, r)
		return err
	})
	return out, err
}

// saveRule writes r over old and records the difference; nothing happens
// when nothing changed.
func saveRule(ctx context.Context, tx *store.Tx, ws int64, old, r Rule) (Rule, error) {
	before, after := activity.Changes(old.values(), r.values())
	if len(after) == 0 {
		return old, nil
	}
	r.UpdatedAt = time.Now().UTC()
	params, _ := json.Marshal(r.Thresholds)
	_, err := tx.ExecContext(ctx, `UPDATE alert_rules SET name = $1, enabled = $2, params = $3, email_to = $4, updated_at = $5
		WHERE workspace_id = $6 AND id = $7`, r.Name, boolInt(r.Enabled), string(params), strings.Join(r.EmailTo, ","),
		store.Micros(r.UpdatedAt), ws, r.ID)
	if store.IsUniqueViolation(err) {
		return Rule{}, fault.Field("name", "Another rule already has this name; choose another")
	}
	if err != nil {
		return Rule{}, fmt.Errorf("update alert rule: %w", err)
	}
	desc := fmt.Sprintf("alert rule %q changed", r.Name)
	if len(after) == 1 && old.Enabled != r.Enabled {
		desc = fmt.Sprintf("alert rule %q switched %s", r.Name, onOff(r.Enabled))
	}
	_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Configuration,
		EntityType: "alert_rules", EntityID: fmt.Sprint(r.ID), Old: before, New: after, Description: desc})
	return r, err
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Condition describes the input's thresholds in words, as Rule.Condition.
func (in RuleInput) Condition() string {
	return Rule{Kind: in.Kind, Thresholds: in.Thresholds}.Condition()
}

// RecommendedRules are the rules offered to a workspace that has none of
// its own yet: one per kind with the default thresholds.
func RecommendedRules() []RuleInput {
	names := map[Kind]string{
		FailedLogins:          "Repeated failed logins to one account",
		AfterHoursAccess:      "Access outside business hours",
		BulkExport:            "Bulk data export",
		LargeCorrection:       "Large stock correction",
		AfterHoursStockChange: "Stock changes outside business hours",
	}
	var out []RuleInput
	for _, k := range Kinds() {
		out = append(out, RuleInput{Kind: k, Name: names[k], Thresholds: DefaultThresholds(k)})
	}
	return out
}

// CreateRecommendedRules adds the recommended rules whose names the
// workspace does not use yet and returns how many it added.
func CreateRecommendedRules(ctx context.Context, db *store.DB) (int, error) {
	a, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return 0, err
	}
	n := 0
	err = db.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		existing, err := listRules(ctx, tx, a.WorkspaceID, false)
		if err != nil {
			return err
		}
		for _, in := range RecommendedRules() {
			if slices.ContainsFunc(existing, func(r Rule) bool { return r.Name == in.Name }) {
				continue
			}
			if _, err := createRule(ctx, tx, in); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
