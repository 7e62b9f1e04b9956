package workspace

import (
	"testing"
	"time"
	_ "time/tzdata" // the list must load wherever the server runs, not only on this host
)

func TestTimeZonesAllLoad(t *testing.T) {
	n := 0
	seen := map[string]bool{}
	for _, g := range TimeZones() {
		for _, z := range g.Zones {
			if seen[z] {
				t.Errorf("%s listed twice", z)
			}
			seen[z] = true
			if _, err := time.LoadLocation(z); err != nil {
				t.Errorf("%s: %v", z, err)
			}
			if err := (Settings{TimeZone: z, BusinessHoursStart: "07:00", BusinessHoursEnd: "19:00"}).Validate(); err != nil {
				t.Errorf("%s refused by Validate: %v", z, err)
			}
			n++
		}
	}
	if n < 300 || !seen["UTC"] || !seen["Europe/Berlin"] || !seen["America/New_York"] || !seen["Asia/Kolkata"] {
		t.Fatalf("%d zones, missing common ones", n)
	}
}
