package workspace

import "strings"

// TimeZoneGroup is the zones of one region ("Europe"), for a select's
// option groups.
type TimeZoneGroup struct {
	Region string
	Zones  []string
}

// TimeZones lists the time zones a workspace may choose, UTC first, then
// the canonical IANA zones by region (from zone1970.tab; Settings.Validate
// still accepts any name Go's time package loads, such as old aliases).
func TimeZones() []TimeZoneGroup {
	out := []TimeZoneGroup{{Region: "Universal", Zones: []string{"UTC"}}}
	for _, z := range timeZoneNames {
		region, _, _ := strings.Cut(z, "/")
		if last := &out[len(out)-1]; last.Region == region {
			last.Zones = append(last.Zones, z)
			continue
		}
		out = append(out, TimeZoneGroup{Region: region, Zones: []string{z}})
	}
	return out
}
