package param_test

import (
	"net/url"
	"testing"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/param"
)

func TestInt(t *testing.T) {
	for raw, want := range map[string]int64{"": 0, "0": 0, "7": 7, "9223372036854775807": 1<<63 - 1} {
		q := url.Values{}
		if raw != "" {
			q.Set("location_id", raw)
		}
		if n, err := param.Int(q, "location_id"); n != want || err != nil {
			t.Errorf("%q: %d %v", raw, n, err)
		}
	}
	for _, raw := range []string{"abc", "-1", "1.5", " 7", "7 ", "0x10", "9223372036854775808", "1e3"} {
		n, err := param.Int(url.Values{"location_id": {raw}}, "location_id")
		e, ok := fault.As(err)
		if n != 0 || !ok || e.Kind != fault.Malformed || e.Message != "location_id must be a non-negative whole number" ||
			e.Fields["location_id"] == "" {
			t.Errorf("%q: %d %v", raw, n, err)
		}
	}
}
