package inventory_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

// logFilterParams are the parameters LogFilterFromQuery documents; a refusal
// names one of them.
var logFilterParams = map[string]bool{"sku": true, "item_id": true, "location_id": true, "record_id": true, "action": true,
	"actor_kind": true, "actor_id": true, "user_id": true, "station_id": true, "api_key_id": true, "batch_id": true,
	"reference": true, "from": true, "to": true, "cursor": true, "limit": true}

// canonicalQuery writes a parsed filter back as the query that means it.
func canonicalQuery(f inventory.LogFilter) url.Values {
	q := url.Values{}
	set := func(name, v string) {
		if v != "" {
			q.Set(name, v)
		}
	}
	num := func(name string, n int64) {
		if n != 0 {
			q.Set(name, strconv.FormatInt(n, 10))
		}
	}
	set("sku", f.SKU)
	num("item_id", f.ItemID)
	num("location_id", f.LocationID)
	num("record_id", f.RecordID)
	set("action", string(f.Action))
	set("actor_kind", f.ActorKind)
	num("actor_id", f.ActorID)
	set("batch_id", f.BatchID)
	set("reference", f.Reference)
	if !f.From.IsZero() {
		q.Set("from", f.From.Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format(time.RFC3339Nano))
	}
	if f.Before != 0 {
		q.Set("cursor", inventory.Cursor(f.Before))
	}
	num("limit", int64(f.Limit))
	return q
}

func sameLogFilter(a, b inventory.LogFilter) bool {
	return a.ItemID == b.ItemID && a.SKU == b.SKU && a.LocationID == b.LocationID && a.RecordID == b.RecordID &&
		a.Action == b.Action && a.ActorKind == b.ActorKind && a.ActorID == b.ActorID && a.BatchID == b.BatchID &&
		a.Reference == b.Reference && a.From.Equal(b.From) && a.To.Equal(b.To) && a.Before == b.Before && a.Limit == b.Limit
}

func fuzzZone() *time.Location {
	if loc, err := time.LoadLocation("America/New_York"); err == nil {
		return loc
	}
	return time.FixedZone("UTC-5", -5*3600)
}

// FuzzLogFilterFromQuery: a query string either reads as a filter that
// means what each parameter says (the same filter read again from its
// canonical form; user_id, station_id and api_key_id each the party they
// name) or is refused as an Invalid fault naming documented parameters.
func FuzzLogFilterFromQuery(f *testing.F) {
	for _, s := range []string{"", "sku=OIL-5&limit=20", "item_id=3&location_id=4&record_id=5", "action=receipt",
		"actor_kind=user&actor_id=2", "user_id=2", "station_id=3", "api_key_id=4", "user_id=2&station_id=3", "actor_kind=station&user_id=2",
		"actor_id=9", "from=2026-01-31&to=2026-01-31", "from=2026-03-08T02:30&to=2026-03-09", "from=2026-01-31T17:00:00Z",
		"to=2026-01-01&from=2026-02-01", "cursor=e2s", "cursor=2s", "cursor=e-1", "cursor=e+1", "limit=0", "limit=501", "limit= 5",
		"item_id=-1", "item_id=abc", "batch_id=" + string(make([]byte, 200)),
		"reference=SO-000001", "reference=" + strings.Repeat("r", 201)} {
		f.Add(s)
	}
	loc := fuzzZone()
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		lf, err := inventory.LogFilterFromQuery(q, loc)
		if err != nil {
			e, ok := fault.As(err)
			if !ok || e.Kind != fault.Invalid || len(e.Fields) == 0 {
				t.Fatalf("%q: refusal %v is not an Invalid fault with fields", raw, err)
			}
			for name := range e.Fields {
				if !logFilterParams[name] {
					t.Fatalf("%q: refusal names %q, not a parameter", raw, name)
				}
			}
			return
		}
		for kind, name := range map[string]string{"user": "user_id", "station": "station_id", "api_key": "api_key_id"} {
			v := q.Get(name)
			if strings.TrimSpace(v) == "" { // blank is absent, as for every parameter
				continue
			}
			if id, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); lf.ActorKind != kind || lf.ActorID != id {
				t.Fatalf("%q: %s=%s read as %s #%d", raw, name, v, lf.ActorKind, lf.ActorID)
			}
		}
		if lf.ItemID < 0 || lf.LocationID < 0 || lf.RecordID < 0 || lf.ActorID < 0 || lf.Before < 0 || lf.Limit < 0 || lf.Limit > inventory.MaxPage {
			t.Fatalf("%q: out-of-range filter %+v", raw, lf)
		}
		canon := canonicalQuery(lf)
		again, err := inventory.LogFilterFromQuery(canon, loc)
		if err != nil || !sameLogFilter(lf, again) {
			t.Fatalf("%q → %+v → %s → %+v, %v", raw, lf, canon.Encode(), again, err)
		}
	})
}
