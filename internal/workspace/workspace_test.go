package workspace_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func TestSettingsValidate(t *testing.T) {
	ok := workspace.DefaultSettings()
	cases := []struct {
		name  string
		edit  func(*workspace.Settings)
		field string
	}{
		{"defaults", func(*workspace.Settings) {}, ""},
		{"berlin", func(s *workspace.Settings) { s.TimeZone = "Europe/Berlin" }, ""},
		{"empty zone", func(s *workspace.Settings) { s.TimeZone = "" }, "time_zone"},
		{"unknown zone", func(s *workspace.Settings) { s.TimeZone = "Mars/Olympus" }, "time_zone"},
		{"local is not a zone", func(s *workspace.Settings) { s.TimeZone = "Local" }, "time_zone"},
		{"bad start", func(s *workspace.Settings) { s.BusinessHoursStart = "25:00" }, "business_hours_start"},
		{"bad end", func(s *workspace.Settings) { s.BusinessHoursEnd = "7pm" }, "business_hours_end"},
		{"over-receipt 10%", func(s *workspace.Settings) { s.OverReceiptPercent = 10 }, ""},
		{"negative over-receipt", func(s *workspace.Settings) { s.OverReceiptPercent = -1 }, "over_receipt_percent"},
		{"huge over-receipt", func(s *workspace.Settings) { s.OverReceiptPercent = 1001 }, "over_receipt_percent"},
	}
	for _, c := range cases {
		s := ok
		c.edit(&s)
		err := s.Validate()
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if e, ok := fault.As(err); !ok || e.Fields[c.field] == "" {
			t.Errorf("%s: %v, want a problem with %s", c.name, err, c.field)
		}
	}
}

func TestPlanRetention(t *testing.T) {
	for plan, days := range map[workspace.Plan]int{workspace.Starter: 30, workspace.Business: 90, workspace.Enterprise: 365} {
		if got := plan.RetentionDays(); got != days {
			t.Errorf("%s keeps %d days, want %d", plan, got, days)
		}
	}
	if workspace.Plan("free").Valid() {
		t.Error("unknown plan accepted")
	}
}

func TestWithinBusinessHours(t *testing.T) {
	s := workspace.DefaultSettings() // 07:00–19:00, Monday to Friday
	s.TimeZone = "Europe/Berlin"
	at := func(v string) time.Time {
		tm, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		when string
		edit func(*workspace.Settings)
		want bool
	}{
		{"2026-12-07T06:30:00Z", nil, true},  // Monday 07:30 Berlin
		{"2026-12-07T05:59:00Z", nil, false}, // Monday 06:59 Berlin
		{"2026-12-07T18:00:00Z", nil, false}, // Monday 19:00 Berlin: the end is exclusive
		{"2026-12-05T10:00:00Z", nil, false}, // Saturday
		{"2026-12-05T10:00:00Z", func(s *workspace.Settings) { s.BusinessDays = []string{"saturday"} }, true},
		{"2026-12-07T10:00:00Z", func(s *workspace.Settings) { s.BusinessDays = []string{"saturday"} }, false},
		// Night shift 22:00–06:00, Monday to Friday: Saturday 03:00 Berlin is Friday's shift.
		{"2026-12-05T02:00:00Z", func(s *workspace.Settings) { s.BusinessHoursStart, s.BusinessHoursEnd = "22:00", "06:00" }, true},
		// Monday 03:00 Berlin belongs to Sunday's shift, which is not worked.
		{"2026-12-07T02:00:00Z", func(s *workspace.Settings) { s.BusinessHoursStart, s.BusinessHoursEnd = "22:00", "06:00" }, false},
		{"2026-12-07T12:00:00Z", func(s *workspace.Settings) { s.BusinessHoursStart, s.BusinessHoursEnd = "22:00", "06:00" }, false},
	}
	for _, c := range cases {
		st := s
		if c.edit != nil {
			c.edit(&st)
		}
		if got := st.WithinBusinessHours(at(c.when)); got != c.want {
			t.Errorf("%s (%s–%s %v): within = %v, want %v", c.when, st.BusinessHoursStart, st.BusinessHoursEnd, st.Days(), got, c.want)
		}
	}
}

func TestBusinessDaysValidate(t *testing.T) {
	s := workspace.DefaultSettings()
	s.BusinessDays = []string{"monday", "funday"}
	if err := s.Validate(); err == nil {
		t.Error("unknown weekday accepted")
	}
	s.BusinessDays = []string{"monday", "monday"}
	if err := s.Validate(); err == nil {
		t.Error("a weekday listed twice accepted")
	}
	s.BusinessDays = []string{"saturday", "sunday"}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
}

func TestRetentionRuleAndPlanNames(t *testing.T) {
	w := workspace.Workspace{Plan: workspace.Business, ActivityRetentionDays: 90}
	if got := w.RetentionRule(); got != "Business plan: 90 days" {
		t.Errorf("rule %q", got)
	}
	w = workspace.Workspace{Plan: workspace.Enterprise, ActivityRetentionDays: 400}
	if got := w.RetentionRule(); got != "Enterprise plan: 400 days (plan minimum 365)" {
		t.Errorf("rule %q", got)
	}
	if p, err := workspace.ParsePlan(" Enterprise "); err != nil || p != workspace.Enterprise {
		t.Errorf("parse: %v %v", p, err)
	}
	if _, err := workspace.ParsePlan("gold"); err == nil || !strings.Contains(err.Error(), "plan") {
		t.Errorf("unknown plan: %v", err)
	}
}
