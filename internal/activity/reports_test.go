package activity_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// reportEvent is one synthetic event of the report tests.
type reportEvent struct {
	at                         time.Time
	kind                       string
	id                         int64
	name, action, category     string
	table, entityID, newValues string
}

func insertReportEvents(t *testing.T, db *store.DB, ws int64, evs []reportEvent) []int64 {
	t.Helper()
	ids := make([]int64, len(evs))
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		for i, e := range evs {
			var id, newValues any
			if e.id != 0 {
				id = e.id
			}
			if e.newValues != "" {
				newValues = e.newValues
			}
			if err := tx.QueryRowContext(context.Background(), `INSERT INTO activity_events (workspace_id, occurred_at, actor_kind,
				actor_id, actor_name, action, category, entity_type, entity_id, new_values, description)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`, ws, store.Micros(e.at), e.kind, id, e.name, e.action,
				e.category, e.table, e.entityID, newValues, e.action+" "+e.table).Scan(&ids[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// reportEvents spreads n events over 12 days ending three days before now:
// users, an API key and a station, logins, reads and exports with row
// counts, configuration changes and role changes, failed logins (some
// coalesced, some for unknown e-mails), at all hours of every weekday.
func reportEvents(now time.Time, n int, userIDs []int64) []reportEvent {
	rng := rand.New(rand.NewPCG(3, 5))
	end := now.Add(-3 * 24 * time.Hour)
	span := int64(12 * 24 * time.Hour)
	var out []reportEvent
	for i := 0; i < n; i++ {
		at := end.Add(-time.Duration(rng.Int64N(span))).Truncate(time.Microsecond)
		uid := userIDs[rng.IntN(len(userIDs))]
		e := reportEvent{at: at, kind: "user", id: uid, name: fmt.Sprintf("User %d", uid)}
		switch rng.IntN(10) {
		case 0:
			e.kind, e.id, e.name = "api_key", 900, "erp key"
		case 1:
			e.kind, e.id, e.name = "station", 901, "dock scanner"
		}
		switch r := rng.IntN(12); r {
		case 0:
			e.action, e.category, e.table = "LOGIN", "authentication", "users"
		case 1:
			e.action, e.category, e.table, e.newValues = "READ", "audit", "activity_events", fmt.Sprintf(`{"rows": %d}`, rng.IntN(100))
		case 2:
			e.action, e.category, e.table, e.newValues = "EXPORT", "inventory", "inventory_log", fmt.Sprintf(`{"format": "csv", "rows": %d}`, rng.IntN(5000))
		case 3:
			e.action, e.category, e.table, e.newValues = "UPDATE", "configuration", "workspaces", `{"time_zone": "Europe/Berlin"}`
		case 4:
			e.action, e.category, e.table, e.newValues = "ROLE_CHANGE", "users", "users", `{"role": "auditor"}`
		case 5:
			// A failed login: anonymous, naming the account tried.
			e.kind, e.id, e.action, e.category, e.table = "anonymous", 0, "LOGIN_FAILED", "authentication", "users"
			e.name, e.entityID, e.newValues = "someone@example.com", fmt.Sprint(uid), `{"email": "someone@example.com", "reason": "wrong password"}`
			if rng.IntN(2) == 0 {
				e.newValues = fmt.Sprintf(`{"email": "someone@example.com", "reason": "wrong password", "attempts": %d}`, rng.IntN(50)+2)
			}
			if rng.IntN(4) == 0 {
				e.entityID, e.name = "", fmt.Sprintf("nobody%d@example.com", rng.IntN(3))
			}
		case 6:
			e.action, e.category, e.table, e.newValues = "CREATE", "configuration", "api_keys", `{"name": "erp", "role": "manager"}`
		default:
			e.action, e.category, e.table = []string{"CREATE", "UPDATE", "DELETE"}[rng.IntN(3)], "inventory", "items"
		}
		out = append(out, e)
	}
	return out
}

// expectedUsers counts the report's user lines from the events themselves.
func expectedUsers(evs []reportEvent, from, until time.Time, hours workspace.Settings) (map[string]activity.UserActivity, activity.UnknownAccountFailures) {
	out := map[string]activity.UserActivity{}
	unknown := map[string]bool{}
	var unk activity.UnknownAccountFailures
	for _, e := range evs {
		if e.at.Before(from) || !e.at.Before(until) {
			continue
		}
		if e.action == "LOGIN_FAILED" {
			attempts := activity.FailedLoginAttempts(e.newValues)
			if e.entityID == "" {
				unk.Attempts += attempts
				unknown[e.name] = true
				continue
			}
			key := "user/" + e.entityID
			u := out[key]
			u.FailedLogins += attempts
			out[key] = u
			continue
		}
		key := fmt.Sprintf("%s/%d", e.kind, e.id)
		u := out[key]
		if u.ByAction == nil {
			u.ByAction = map[string]int64{}
		}
		u.Actions++
		u.ByAction[e.action]++
		if e.action == "LOGIN" {
			u.Logins++
		}
		if e.action == "EXPORT" {
			u.Exports++
		}
		if !hours.WithinBusinessHours(e.at) {
			u.AfterHours++
		}
		if u.LastActive == nil || e.at.After(*u.LastActive) {
			at := e.at
			u.LastActive = &at
		}
		out[key] = u
	}
	unk.Emails = len(unknown)
	return out, unk
}

// reportClock is a workspace's settings as reports take them.
var _ activity.ReportClock = workspace.Settings{}

// TestReportsMatchEvents: each report's numbers and rows are those of the
// events, on both engines, from the events alone and from the daily rollups
// (after-hours counted by the workspace's business hours in its own time
// zone), for ranges whose days are not UTC days.
func TestReportsMatchEvents(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		ws := f.Workspace.ID
		now := time.Now()
		settings := workspace.Settings{TimeZone: "America/New_York", BusinessHoursStart: "08:30", BusinessHoursEnd: "17:15"}
		loc := settings.Location()
		userIDs := []int64{f.Admin.ID, f.Admin.ID + 1000, f.Admin.ID + 1001}
		evs := reportEvents(now, 2500, userIDs)
		ids := insertReportEvents(t, db, ws, evs)

		day := func(offset int) string { return now.In(loc).AddDate(0, 0, -offset).Format("2006-01-02") }
		ranges := [][2]string{{day(16), day(2)}, {day(9), day(5)}, {day(7), day(7)}}
		check := func(stage string) {
			for _, rg := range ranges {
				in, err := activity.ParseReportInput("user-activity", url.Values{"from": {rg[0]}, "to": {rg[1]}}, loc, now)
				if err != nil {
					t.Fatal(err)
				}
				rep, err := activity.BuildReport(f.Ctx, db, in, settings)
				if err != nil {
					t.Fatalf("%s %v: %v", stage, rg, err)
				}
				from, _ := time.ParseInLocation("2006-01-02", rg[0], loc)
				to, _ := time.ParseInLocation("2006-01-02", rg[1], loc)
				want, wantUnknown := expectedUsers(evs, from, to.AddDate(0, 0, 1), settings)
				got := map[string]activity.UserActivity{}
				for _, u := range rep.Users {
					got[fmt.Sprintf("%s/%d", u.ActorKind, u.ActorID)] = u
				}
				if len(got) != len(want) {
					t.Errorf("%s %v: %d lines, want %d", stage, rg, len(got), len(want))
				}
				for k, w := range want {
					g := got[k]
					if g.Actions != w.Actions || g.Logins != w.Logins || g.FailedLogins != w.FailedLogins || g.Exports != w.Exports ||
						g.AfterHours != w.AfterHours || (w.Actions > 0 && !reflect.DeepEqual(g.ByAction, w.ByAction)) ||
						(w.LastActive == nil) != (g.LastActive == nil) || (w.LastActive != nil && !g.LastActive.Equal(*w.LastActive)) {
						t.Errorf("%s %v %s:\n got %+v\nwant %+v", stage, rg, k, g, w)
					}
				}
				if rep.UnknownAccounts != wantUnknown {
					t.Errorf("%s %v: unknown accounts %+v, want %+v", stage, rg, rep.UnknownAccounts, wantUnknown)
				}
			}
		}
		check("events only")
		hoursOf := func(context.Context, int64) (activity.BusinessHours, error) { return settings, nil }
		if _, err := activity.RollupDays(context.Background(), db, now, 0, hoursOf); err != nil {
			t.Fatal(err)
		}
		check("rollups")
		// The rollups are really read: skew one row's after-hours count.
		if _, err := db.Exec(context.Background(), `UPDATE activity_daily_counts SET after_hours = after_hours + 1000
			WHERE workspace_id = $1 AND actor_kind = 'api_key' AND day = (SELECT MAX(day) FROM activity_daily_counts WHERE workspace_id = $1 AND actor_kind = 'api_key')`, ws); err != nil {
			t.Fatal(err)
		}
		in, _ := activity.ParseReportInput("user-activity", url.Values{"from": {day(16)}, "to": {day(2)}}, loc, now)
		rep, err := activity.BuildReport(f.Ctx, db, in, settings)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range rep.Users {
			if u.ActorKind == "api_key" && u.AfterHours < 1000 {
				t.Errorf("the report did not read the rollups: %+v", u)
			}
		}

		// Listing reports, paged with a small limit, hold exactly their
		// events, oldest first.
		for _, c := range []struct {
			kind  string
			match func(reportEvent) bool
		}{
			{"data-access", func(e reportEvent) bool { return e.action == "READ" || e.action == "EXPORT" }},
			{"configuration-changes", func(e reportEvent) bool { return e.category == "configuration" || e.action == "ROLE_CHANGE" }},
		} {
			from, _ := time.ParseInLocation("2006-01-02", day(9), loc)
			to, _ := time.ParseInLocation("2006-01-02", day(5), loc)
			type at struct {
				t  time.Time
				id int64
			}
			var want []at
			for i, e := range evs {
				if c.match(e) && !e.at.Before(from) && e.at.Before(to.AddDate(0, 0, 1)) {
					want = append(want, at{e.at, ids[i]})
				}
			}
			slices.SortFunc(want, func(a, b at) int {
				if c := a.t.Compare(b.t); c != 0 {
					return c
				}
				return int(a.id - b.id)
			})
			q := url.Values{"from": {day(9)}, "to": {day(5)}, "limit": {"7"}}
			var got []int64
			for pages := 0; ; pages++ {
				in, err := activity.ParseReportInput(c.kind, q, loc, now)
				if err != nil {
					t.Fatal(err)
				}
				rep, err := activity.BuildReport(f.Ctx, db, in, settings)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range rep.Access {
					got = append(got, e.ID)
					src := evs[slices.Index(ids, e.ID)]
					if e.Rows == nil || !strings.Contains(src.newValues, fmt.Sprintf(`"rows": %d`, *e.Rows)) {
						t.Errorf("%s: rows of %d %v, values %s", c.kind, e.ID, e.Rows, src.newValues)
					}
				}
				for _, ch := range rep.Changes {
					got = append(got, ch.ID)
					if len(ch.Changes) == 0 || ch.ChangesText() == "" {
						t.Errorf("%s: change %d without before → after", c.kind, ch.ID)
					}
				}
				if rep.Next == nil {
					break
				}
				q.Set("cursor", rep.Next.String())
			}
			wantIDs := make([]int64, len(want))
			for i, w := range want {
				wantIDs[i] = w.id
			}
			if !slices.Equal(got, wantIDs) || len(got) < 20 {
				t.Errorf("%s: %d rows, want %d", c.kind, len(got), len(wantIDs))
			}

			// The files hold the same rows, after the framing (and a blank
			// line, which the CSV reader skips).
			in, _ := activity.ParseReportInput(c.kind, url.Values{"from": {day(9)}, "to": {day(5)}}, loc, now)
			var buf bytes.Buffer
			n, err := activity.WriteReport(f.Ctx, db, in, settings, activity.CSV, &buf)
			if err != nil || n != len(wantIDs) {
				t.Fatalf("%s CSV: %d rows, %v", c.kind, n, err)
			}
			r := csv.NewReader(&buf)
			r.FieldsPerRecord = -1
			records, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if records[0][1] != in.Kind.Title() || records[1][1] != day(9) || records[4][0] != "Generated" || len(records) != 6+n {
				t.Errorf("%s CSV framing %q … (%d lines)", c.kind, records[:7], len(records))
			}
			buf.Reset()
			if _, err := activity.WriteReport(f.Ctx, db, in, settings, activity.PDF, &buf); err != nil || !bytes.HasPrefix(buf.Bytes(), []byte("%PDF")) {
				t.Fatalf("%s PDF: %v", c.kind, err)
			}
		}
	})
}

// TestReportInputAndAccess: bad ranges name their field, only those who may
// read the trail read reports, and every read and download is recorded.
func TestReportInputAndAccess(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		loc, _ := time.LoadLocation("Europe/Berlin")
		now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			kind  string
			q     url.Values
			field string
		}{
			{"user-activity", url.Values{"from": {"2026-03-10"}, "to": {"2026-03-01"}}, "to"},
			{"user-activity", url.Values{"from": {"10/03/2026"}}, "from"},
			{"user-activity", url.Values{"to": {"2026-02-30"}}, "to"},
			{"everything", url.Values{}, "report"},
			{"data-access", url.Values{"limit": {"0"}}, "limit"},
			{"data-access", url.Values{"cursor": {"x"}}, "cursor"},
		} {
			_, err := activity.ParseReportInput(c.kind, c.q, loc, now)
			e, ok := fault.As(err)
			if !ok || e.Kind != fault.Invalid && e.Kind != fault.Malformed || e.Fields[c.field] == "" {
				t.Errorf("%s %v: %v (fields %v), want a message on %s", c.kind, c.q, err, e, c.field)
			}
		}
		in, err := activity.ParseReportInput("configuration-changes", url.Values{}, loc, now)
		if err != nil || in.From != "2026-02-14" || in.To != "2026-03-15" {
			t.Fatalf("default range %s – %s, %v", in.From, in.To, err)
		}
		settings := workspace.DefaultSettings()
		op := f.User(t, "op@example.com", actor.Operator)
		if _, err := activity.BuildReport(f.As(op), db, in, settings); fault.KindOf(err) != fault.Forbidden {
			t.Errorf("an operator read a report: %v", err)
		}
		if _, err := activity.WriteReport(f.As(op), db, in, settings, activity.CSV, &bytes.Buffer{}); fault.KindOf(err) != fault.Forbidden {
			t.Errorf("an operator downloaded a report: %v", err)
		}
		auditor := f.User(t, "aud@example.com", actor.Auditor)
		if _, err := activity.BuildReport(f.As(auditor), db, in, settings); err != nil {
			t.Fatal(err)
		}
		if _, err := activity.WriteReport(f.As(auditor), db, in, settings, activity.PDF, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		var reads, exports int
		var raw string
		db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM activity_events WHERE workspace_id = $1 AND action = 'READ'
			AND entity_type = 'audit_reports' AND entity_id = 'configuration-changes' AND actor_id = $2`, f.Workspace.ID, auditor.ID).Scan(&reads)
		db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*), MAX(new_values) FROM activity_events WHERE workspace_id = $1 AND action = 'EXPORT'
			AND entity_type = 'audit_reports' AND actor_id = $2`, f.Workspace.ID, auditor.ID).Scan(&exports, &raw)
		var vals map[string]any
		json.Unmarshal([]byte(raw), &vals)
		if reads != 1 || exports != 1 || vals["format"] != "pdf" || vals["from"] != "2026-02-14" || vals["rows"] == nil {
			t.Errorf("recorded %d reads, %d exports (%s)", reads, exports, raw)
		}
	})
}
