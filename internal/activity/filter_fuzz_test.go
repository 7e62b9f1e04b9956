package activity_test

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/fault"
)

// filterParams are the parameters ParseFilter documents; a refusal names
// one of them.
var filterParams = map[string]bool{"start_date": true, "end_date": true, "user_id": true, "actor_kind": true, "actor_id": true,
	"action": true, "category": true, "table_name": true, "entity_type": true, "entity_id": true, "record_id": true, "q": true,
	"search_in": true, "cursor": true, "skip": true, "limit": true}

// canonicalFilterQuery writes a parsed filter back as the query that means it.
func canonicalFilterQuery(f activity.Filter) url.Values {
	q := url.Values{}
	for name, v := range map[string]string{"start_date": f.StartDate, "end_date": f.EndDate, "actor_kind": f.ActorKind,
		"action": string(f.Action), "category": string(f.Category), "entity_type": f.EntityType, "entity_id": f.EntityID,
		"q": f.Text, "search_in": f.SearchIn} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if f.ActorID != 0 {
		q.Set("actor_id", strconv.FormatInt(f.ActorID, 10))
	}
	if f.After != nil {
		q.Set("cursor", f.After.String())
	}
	if f.Skip != 0 {
		q.Set("skip", strconv.Itoa(f.Skip))
	}
	q.Set("limit", strconv.Itoa(f.Limit))
	return q
}

func sameFilter(a, b activity.Filter) bool {
	sameAfter := a.After == nil && b.After == nil || a.After != nil && b.After != nil && *a.After == *b.After
	return a.StartDate == b.StartDate && a.EndDate == b.EndDate && a.From.Equal(b.From) && a.Until.Equal(b.Until) &&
		a.ActorKind == b.ActorKind && a.ActorID == b.ActorID && a.Action == b.Action && a.Category == b.Category &&
		a.EntityType == b.EntityType && a.EntityID == b.EntityID && a.Text == b.Text && a.SearchIn == b.SearchIn &&
		sameAfter && a.Skip == b.Skip && a.Limit == b.Limit
}

// FuzzParseFilter: the activity log's filter (web page and audit-log API)
// either reads as a filter that the same filter reads again from its
// canonical form, with dates whose day is [From, Until) in the workspace's
// zone, or is refused as an Invalid fault naming documented parameters.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "start_date=2026-01-01&end_date=2026-01-31", "start_date=2026-02-01&end_date=2026-01-01",
		"start_date=2026-03-08&end_date=2026-03-08", "start_date=2026-1-5", "user_id=3", "user_id=3&actor_kind=station",
		"user_id=3&actor_id=4", "actor_kind=api_key&actor_id=9", "action=create&category=inventory", "action=EXPLODE",
		"table_name=items&entity_id=42", "record_id=7&entity_type=assets", "q=oil+drum&search_in=description", "search_in=all",
		"search_in=nowhere", "cursor=1765000000000000_12", "cursor=_1", "cursor=1_0", "skip=20&limit=50", "limit=0", "skip=-1",
		"limit=100000", "user_id=%2B3", "start_date=+2026-01-01"} {
		f.Add(s)
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		loc = time.FixedZone("UTC+1", 3600)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, err := activity.ParseFilter(q, loc)
		if err != nil {
			e, ok := fault.As(err)
			if !ok || e.Kind != fault.Invalid || len(e.Fields) == 0 {
				t.Fatalf("%q: refusal %v is not an Invalid fault with fields", raw, err)
			}
			for name := range e.Fields {
				if !filterParams[name] {
					t.Fatalf("%q: refusal names %q, not a parameter", raw, name)
				}
			}
			return
		}
		if flt.Limit < 1 || flt.Limit > activity.MaxLimit || flt.Skip < 0 || flt.ActorID < 0 {
			t.Fatalf("%q: out-of-range filter %+v", raw, flt)
		}
		if !flt.From.IsZero() && (flt.From.In(loc).Format("2006-01-02") != flt.StartDate || flt.From.In(loc).Format("15:04:05") != "00:00:00") {
			t.Fatalf("%q: start_date %s begins at %v", raw, flt.StartDate, flt.From)
		}
		if !flt.Until.IsZero() && flt.Until.Add(-time.Nanosecond).In(loc).Format("2006-01-02") != flt.EndDate {
			t.Fatalf("%q: end_date %s ends at %v, not at the end of that day", raw, flt.EndDate, flt.Until)
		}
		canon := canonicalFilterQuery(flt)
		again, err := activity.ParseFilter(canon, loc)
		if err != nil || !sameFilter(flt, again) {
			t.Fatalf("%q → %+v → %s → %+v, %v", raw, flt, canon.Encode(), again, err)
		}
	})
}
