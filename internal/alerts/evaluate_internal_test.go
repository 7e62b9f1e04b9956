package alerts

import (
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func TestLargeChange(t *testing.T) {
	q := func(s string) inventory.Quantity {
		v, err := inventory.ParseQuantity(s, inventory.QuantityScale)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		t              Thresholds
		change, before string
		want           bool
	}{
		{Thresholds{PercentAbove: 50}, "-6", "10", true},     // 60% of a small level
		{Thresholds{PercentAbove: 50}, "-5", "10", false},    // exactly 50% is not above
		{Thresholds{PercentAbove: 50}, "500", "0", false},    // from nothing: no percentage
		{Thresholds{QuantityAbove: "100"}, "500", "0", true}, // but the quantity applies
		{Thresholds{QuantityAbove: "100"}, "-100", "1000", false},
		{Thresholds{QuantityAbove: "0.5"}, "-0.75", "1000", true},
		{Thresholds{QuantityAbove: "100", PercentAbove: 10}, "-20", "100", true},
		{Thresholds{PercentAbove: 10}, "1", "100000000000", false}, // huge levels, no overflow
	}
	for _, c := range cases {
		it := Item{Change: q(c.change), LevelBefore: q(c.before)}
		if got := largeChange(c.t, it); got != c.want {
			t.Errorf("%+v change %s before %s: %v, want %v", c.t, c.change, c.before, got, c.want)
		}
	}
}

// The window counts what came within it before each entry; entries further
// apart than the window never add up, however many there are.
func TestEvaluateCountsWithinTheWindow(t *testing.T) {
	r := Rule{ID: 1, Kind: FailedLogins, Enabled: true, Thresholds: Thresholds{Attempts: 3, Per: PerAccount, WindowMinutes: 10}}
	t0 := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	item := func(id int64, minutes int, email string) Item {
		return Item{Log: logActivity, EntryID: id, Seq: id, At: t0.Add(time.Duration(minutes) * time.Minute), Action: activity.LoginFailed,
			Email: email, Attempts: 1}
	}
	st := NewState()
	var items []Item
	for i := 0; i < 10; i++ {
		items = append(items, item(int64(i+1), i*6, "a@example.com")) // two per window at most
	}
	if got := Evaluate([]Rule{r}, workspace.DefaultSettings(), st, items); len(got) != 0 {
		t.Fatalf("spread failures raised %+v", got)
	}
	got := Evaluate([]Rule{r}, workspace.DefaultSettings(), st, []Item{item(11, 55, "a@example.com"), item(12, 56, "b@example.com")})
	if len(got) != 1 || got[0].Count != 3 || !got[0].Raised() || got[0].FirstAt != t0.Add(48*time.Minute) {
		t.Fatalf("third failure within 10 minutes: %+v", got)
	}
	// Later entries of the burst join it; after a quiet window, a new count starts.
	got = Evaluate([]Rule{r}, workspace.DefaultSettings(), st, []Item{item(13, 60, "a@example.com"), item(14, 80, "a@example.com")})
	if len(got) != 1 || got[0].Raised() != true || got[0].Count != 4 || len(st.pending[ruleKey{1, "account:a@example.com"}]) != 1 {
		t.Fatalf("burst going on: %+v %+v", got, st.pending)
	}
}
