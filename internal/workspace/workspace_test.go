package workspace_test

import (
	"testing"

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
		if err == nil {
			t.Errorf("%s: accepted", c.name)
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
