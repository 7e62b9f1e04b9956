package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/alerts"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// The pages of Configuration → Notifications that belong to alerts: the
// landing page (open alerts, then rules), a rule's form, and the alerts with
// their evidence and acknowledgement.
func (wb *Web) registerAlerts(mux *http.ServeMux) {
	mux.HandleFunc("GET /notifications", wb.page(wb.notificationsHome))
	mux.HandleFunc("POST /notifications/rules/recommended", wb.page(wb.createRecommendedRules))
	mux.HandleFunc("GET /notifications/rules/new", wb.page(wb.newAlertRule))
	mux.HandleFunc("POST /notifications/rules", wb.page(wb.createAlertRule))
	mux.HandleFunc("GET /notifications/rules/{id}", wb.page(wb.alertRule))
	mux.HandleFunc("POST /notifications/rules/{id}", wb.page(wb.updateAlertRule))
	mux.HandleFunc("POST /notifications/rules/{id}/enabled", wb.page(wb.switchAlertRule))
	mux.HandleFunc("GET /notifications/alerts", wb.page(wb.alertList))
	mux.HandleFunc("GET /notifications/alerts/{id}", wb.page(wb.alertPage))
	mux.HandleFunc("POST /notifications/alerts/{id}/acknowledge", wb.page(wb.acknowledgeAlert))
}

// alertRow is an alert with its times in the workspace's time zone.
type alertRow struct {
	alerts.Alert
	First, Last, Raised, AckAt string
}

func alertRows(list []alerts.Alert, loc *time.Location) []alertRow {
	out := make([]alertRow, 0, len(list))
	for _, a := range list {
		row := alertRow{Alert: a, First: localTime(a.FirstAt, loc), Last: localTime(a.LastAt, loc), Raised: localTime(a.RaisedAt, loc)}
		if a.AcknowledgedAt != nil {
			row.AckAt = localTime(*a.AcknowledgedAt, loc)
		}
		out = append(out, row)
	}
	return out
}

// localTime shows t in the workspace's time zone, to the minute.
func localTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

type notificationsPage struct {
	Open        []alertRow
	OpenCount   int
	Rules       []alerts.Rule
	Recommended []alerts.RuleInput
	TimeZone    string
}

func (wb *Web) workspaceLocation(r *http.Request) (*time.Location, error) {
	ws, err := workspace.Get(r.Context(), wb.cfg.DB)
	if err != nil {
		return nil, err
	}
	return ws.Settings.Location(), nil
}

// maxOpenOnLanding bounds the open alerts listed on the landing page.
const maxOpenOnLanding = 20

func (wb *Web) notificationsHome(w http.ResponseWriter, r *http.Request) error {
	return wb.showNotificationsHome(w, r, nil)
}

func (wb *Web) showNotificationsHome(w http.ResponseWriter, r *http.Request, formErr error) error {
	ctx := r.Context()
	if _, err := actor.Require(ctx, actor.ViewAlerts); err != nil {
		return err
	}
	loc, err := wb.workspaceLocation(r)
	if err != nil {
		return err
	}
	open, err := alerts.ListAlerts(ctx, wb.cfg.DB, alerts.AlertFilter{Status: alerts.Open, Limit: maxOpenOnLanding})
	if err != nil {
		return err
	}
	count, err := alerts.CountOpen(ctx, wb.cfg.DB)
	if err != nil {
		return err
	}
	rules, err := alerts.ListRules(ctx, wb.cfg.DB)
	if err != nil {
		return err
	}
	page := notificationsPage{Open: alertRows(open, loc), OpenCount: count, Rules: rules, TimeZone: loc.String()}
	if len(rules) == 0 {
		page.Recommended = alerts.RecommendedRules()
	}
	return wb.show(w, r, "alerthome.html", "Notifications", page, formErr)
}

func (wb *Web) createRecommendedRules(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAlerts); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	n, err := alerts.CreateRecommendedRules(r.Context(), wb.cfg.DB)
	if err != nil {
		return err
	}
	return redirect(w, r, "/notifications", fmt.Sprintf("%d recommended rules created; each can be changed or switched off", n))
}

// ruleForm is the form of one rule: its kind, the values typed (or the
// rule's), the problems found, in the order of the fields on the page.
type ruleForm struct {
	Rule    alerts.Rule // the saved rule when editing (ID 0 for a new one)
	Kind    alerts.Kind
	Kinds   []alerts.Kind
	Values  map[string]string
	Errors  []fieldProblem
	Fields  map[string]string
	History []activity.Readable
	// Recent are the rule's latest alerts (when editing).
	Recent []alertRow
	// BusinessHours describes the workspace's hours, for the after-hours kinds.
	BusinessHours string
}

// ruleFieldOrder is the order of every field on the rule forms.
var ruleFieldOrder = []string{"kind", "name", "attempts", "per", "actions", "rows_above", "exports_above", "quantity_above",
	"percent_above", "window_minutes", "email_to"}

// ruleValues are a rule's values as the form shows them.
func ruleValues(name string, enabled bool, t alerts.Thresholds, to []string) map[string]string {
	v := map[string]string{"name": name, "per": t.Per, "quantity_above": t.QuantityAbove, "email_to": strings.Join(to, ", "),
		"window_minutes": strconv.Itoa(t.WindowMinutes), "attempts": strconv.Itoa(t.Attempts), "actions": strconv.Itoa(t.Actions),
		"rows_above": strconv.FormatInt(t.RowsAbove, 10), "exports_above": strconv.Itoa(t.ExportsAbove),
		"percent_above": strconv.Itoa(t.PercentAbove)}
	if enabled {
		v["enabled"] = "on"
	}
	return v
}

func (wb *Web) businessHours(r *http.Request) (string, error) {
	ws, err := workspace.Get(r.Context(), wb.cfg.DB)
	if err != nil {
		return "", err
	}
	s := ws.Settings
	days := make([]string, 0, 7)
	for _, d := range s.Days() {
		days = append(days, strings.ToUpper(d[:1])+d[1:3])
	}
	return fmt.Sprintf("%s–%s on %s (%s)", s.BusinessHoursStart, s.BusinessHoursEnd, strings.Join(days, ", "), s.Location()), nil
}

func (wb *Web) newAlertRule(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAlerts); err != nil {
		return err
	}
	kind := alerts.Kind(r.URL.Query().Get("kind"))
	form := ruleForm{Kind: kind, Kinds: alerts.Kinds()}
	if kind != "" && !kind.Valid() {
		form.Kind = ""
		form.Fields = map[string]string{"kind": "Choose what the rule watches for"}
		form.Errors = errorSummary(form.Fields, ruleFieldOrder, nil)
	}
	if form.Kind != "" {
		form.Values = ruleValues(form.Kind.Label(), true, alerts.DefaultThresholds(form.Kind), nil)
	}
	var err error
	if form.BusinessHours, err = wb.businessHours(r); err != nil {
		return err
	}
	return wb.showRuleForm(w, r, http.StatusOK, form)
}

func (wb *Web) showRuleForm(w http.ResponseWriter, r *http.Request, status int, form ruleForm) error {
	title := "New alert rule"
	if form.Rule.ID != 0 {
		title = form.Rule.Name
	}
	// The problems are shown by the form's own summary, not the layout's line.
	wb.render(w, r, status, "alertrule.html", title, form, nil)
	return nil
}

// numberWords name the numbers of the rule forms in messages.
var numberWords = map[string]string{"attempts": "number of failed logins", "window_minutes": "minutes", "actions": "number of actions",
	"rows_above": "number of rows", "exports_above": "number of exports", "percent_above": "percentage"}

// readRuleForm reads a rule form; numbers that are not numbers are
// reported per field, together with what the area finds wrong.
func readRuleForm(r *http.Request, kind alerts.Kind) (alerts.RuleInput, map[string]string, fault.Fields) {
	f := r.PostForm
	bad := fault.Fields{}
	number := func(name string) int64 {
		raw := strings.TrimSpace(f.Get(name))
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			bad.Add(name, "Enter the "+numberWords[name]+" as a whole number, such as 10")
		}
		return n
	}
	on := f.Get("enabled") == "on"
	in := alerts.RuleInput{Kind: kind, Name: f.Get("name"), Enabled: &on, EmailTo: alerts.ParseRecipients(f.Get("email_to")),
		Thresholds: alerts.Thresholds{Attempts: int(number("attempts")), Per: f.Get("per"), WindowMinutes: int(number("window_minutes")),
			Actions: int(number("actions")), RowsAbove: number("rows_above"), ExportsAbove: int(number("exports_above")),
			QuantityAbove: strings.TrimSpace(f.Get("quantity_above")), PercentAbove: int(number("percent_above"))}}
	values := map[string]string{}
	for k := range f {
		values[k] = f.Get(k)
	}
	return in, values, bad
}

// ruleError merges the form's own problems with the area's.
func ruleError(bad fault.Fields, err error) (map[string]string, error) {
	fields := map[string]string{}
	for k, v := range bad {
		fields[k] = v
	}
	if err != nil {
		e, ok := fault.As(err)
		if !ok || len(e.Fields) == 0 {
			return nil, err
		}
		for k, v := range e.Fields {
			if _, seen := fields[k]; !seen {
				fields[k] = v
			}
		}
	}
	return fields, nil
}

func (wb *Web) createAlertRule(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAlerts); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	kind := alerts.Kind(r.PostFormValue("kind"))
	in, values, bad := readRuleForm(r, kind)
	var err error
	var rule alerts.Rule
	if len(bad) == 0 {
		rule, err = alerts.CreateRule(r.Context(), wb.cfg.DB, in)
		if err == nil {
			return redirect(w, r, "/notifications", "Rule “"+rule.Name+"” created")
		}
	} else {
		err = in.Validate()
	}
	fields, err := ruleError(bad, err)
	if err != nil {
		return err
	}
	form := ruleForm{Kind: kind, Kinds: alerts.Kinds(), Values: values, Fields: fields, Errors: errorSummary(fields, ruleFieldOrder, nil)}
	if !kind.Valid() {
		form.Kind = ""
	}
	if form.BusinessHours, err = wb.businessHours(r); err != nil {
		return err
	}
	return wb.showRuleForm(w, r, http.StatusUnprocessableEntity, form)
}

func (wb *Web) alertRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rule, err := alerts.GetRule(r.Context(), wb.cfg.DB, id)
	if err != nil {
		return err
	}
	form := ruleForm{Rule: rule, Kind: rule.Kind, Values: ruleValues(rule.Name, rule.Enabled, rule.Thresholds, rule.EmailTo)}
	return wb.finishRuleForm(w, r, http.StatusOK, form)
}

// recentAlertsOfRule bounds the alerts listed on a rule's page.
const recentAlertsOfRule = 10

func (wb *Web) finishRuleForm(w http.ResponseWriter, r *http.Request, status int, form ruleForm) error {
	var err error
	if form.BusinessHours, err = wb.businessHours(r); err != nil {
		return err
	}
	loc, err := wb.workspaceLocation(r)
	if err != nil {
		return err
	}
	recent, err := alerts.ListAlerts(r.Context(), wb.cfg.DB, alerts.AlertFilter{RuleID: form.Rule.ID, Limit: recentAlertsOfRule})
	if err != nil {
		return err
	}
	form.Recent = alertRows(recent, loc)
	if a, _ := actor.From(r.Context()); a.Can(actor.ViewActivity) {
		if form.History, err = activity.History(r.Context(), wb.cfg.DB, "alert_rules", itoa64(form.Rule.ID), 50); err != nil {
			return err
		}
	}
	return wb.showRuleForm(w, r, status, form)
}

func (wb *Web) updateAlertRule(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageAlerts)
	if err != nil {
		return err
	}
	rule, err := alerts.GetRule(r.Context(), wb.cfg.DB, id)
	if err != nil {
		return err
	}
	in, values, bad := readRuleForm(r, rule.Kind)
	if len(bad) == 0 {
		saved, err := alerts.UpdateRule(r.Context(), wb.cfg.DB, id, in)
		if err == nil {
			return redirect(w, r, "/notifications/rules/"+itoa64(id), "Rule “"+saved.Name+"” saved")
		}
		bad2, err := ruleError(bad, err)
		if err != nil {
			return err
		}
		return wb.finishRuleForm(w, r, http.StatusUnprocessableEntity, ruleForm{Rule: rule, Kind: rule.Kind, Values: values, Fields: bad2, Errors: errorSummary(bad2, ruleFieldOrder, nil)})
	}
	fields, err := ruleError(bad, in.Validate())
	if err != nil {
		return err
	}
	return wb.finishRuleForm(w, r, http.StatusUnprocessableEntity, ruleForm{Rule: rule, Kind: rule.Kind, Values: values, Fields: fields, Errors: errorSummary(fields, ruleFieldOrder, nil)})
}

func (wb *Web) switchAlertRule(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageAlerts)
	if err != nil {
		return err
	}
	on := r.PostFormValue("enabled") == "on"
	rule, err := alerts.SetRuleEnabled(r.Context(), wb.cfg.DB, id, on)
	if err != nil {
		return err
	}
	back := "/notifications"
	if r.PostFormValue("back") == "rule" {
		back = "/notifications/rules/" + itoa64(id)
	}
	return redirect(w, r, back, "Rule “"+rule.Name+"” switched "+map[bool]string{true: "on", false: "off"}[on])
}

type alertListPage struct {
	Rows   []alertRow
	Status string
	Older  string
	// Rule is the rule the list is narrowed to, if any.
	Rule *alerts.Rule
}

func (wb *Web) alertList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := actor.Require(ctx, actor.ViewAlerts); err != nil {
		return err
	}
	loc, err := wb.workspaceLocation(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := alerts.AlertFilter{Status: q.Get("status"), Limit: 50}
	if f.Before, err = queryInt(r, "before"); err != nil {
		return err
	}
	if f.RuleID, err = queryInt(r, "rule"); err != nil {
		return err
	}
	var rule *alerts.Rule
	if f.RuleID != 0 {
		got, err := alerts.GetRule(ctx, wb.cfg.DB, f.RuleID)
		if err != nil {
			return err
		}
		rule = &got
	}
	list, err := alerts.ListAlerts(ctx, wb.cfg.DB, f)
	if err != nil {
		return err
	}
	page := alertListPage{Rows: alertRows(list, loc), Status: f.Status, Rule: rule}
	if len(list) == f.Limit {
		next := url.Values{}
		if f.Status != "" {
			next.Set("status", f.Status)
		}
		if f.RuleID != 0 {
			next.Set("rule", itoa64(f.RuleID))
		}
		next.Set("before", itoa64(list[len(list)-1].ID))
		page.Older = "/notifications/alerts?" + next.Encode()
	}
	return wb.show(w, r, "alertlist.html", "Alerts", page, nil)
}

type evidenceRow struct {
	alerts.Evidence
	When string
}

type alertDetailPage struct {
	Alert    alertRow
	Evidence []evidenceRow
	More     int
	Rule     *alerts.Rule
}

func (wb *Web) alertPage(w http.ResponseWriter, r *http.Request) error {
	return wb.showAlert(w, r, nil)
}

func (wb *Web) showAlert(w http.ResponseWriter, r *http.Request, formErr error) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	loc, err := wb.workspaceLocation(r)
	if err != nil {
		return err
	}
	al, evidence, err := alerts.GetAlert(ctx, wb.cfg.DB, id)
	if err != nil {
		return err
	}
	page := alertDetailPage{Alert: alertRows([]alerts.Alert{al}, loc)[0], More: al.EvidenceCount - len(evidence)}
	for _, e := range evidence {
		page.Evidence = append(page.Evidence, evidenceRow{Evidence: e, When: e.OccurredAt.In(loc).Format("2006-01-02 15:04:05 MST")})
	}
	if rule, err := alerts.GetRule(ctx, wb.cfg.DB, al.RuleID); err == nil {
		page.Rule = &rule
	}
	return wb.show(w, r, "alert.html", al.Summary, page, formErr)
}

func (wb *Web) acknowledgeAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageAlerts)
	if err != nil {
		return err
	}
	if _, err := alerts.Acknowledge(r.Context(), wb.cfg.DB, id, r.PostFormValue("note")); err != nil {
		if k := fault.KindOf(err); k == fault.Invalid || k == fault.Conflict {
			return wb.showAlert(w, r, err)
		}
		return err
	}
	return redirect(w, r, "/notifications/alerts/"+itoa64(id), "Alert acknowledged")
}
