package activity

import "testing"

// TestFieldLabel: stored field names read as a person says them.
func TestFieldLabel(t *testing.T) {
	for field, want := range map[string]string{
		"location_id":          "Location",
		"exclude_retired":      "Exclude retired",
		"sku":                  "SKU",
		"ip":                   "IP address",
		"over_receipt_percent": "Over-receipt tolerance (%)",
		"":                     "",
	} {
		if got := FieldLabel(field); got != want {
			t.Errorf("FieldLabel(%q) = %q, want %q", field, got, want)
		}
	}
}
