package eventfeed_test

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/eventfeed"
	"github.com/stocktrail/stocktrail/internal/fault"
)

func as(role actor.Role) context.Context {
	return actor.With(context.Background(), actor.Actor{WorkspaceID: 1, Kind: actor.APIKey, ID: 1, Name: "k", Role: role})
}

func TestParseFilter(t *testing.T) {
	f, err := eventfeed.ParseFilter(as(actor.Auditor), url.Values{})
	if err != nil || !slices.Equal(f.Streams, []eventfeed.Stream{eventfeed.Activity, eventfeed.Inventory}) {
		t.Fatalf("auditor default: %+v %v", f, err)
	}
	// What a role may not read is left out by default...
	f, err = eventfeed.ParseFilter(as(actor.Operator), url.Values{})
	if err != nil || !slices.Equal(f.Streams, []eventfeed.Stream{eventfeed.Inventory}) {
		t.Fatalf("operator default: %+v %v", f, err)
	}
	// ...and refused when asked for.
	if _, err := eventfeed.ParseFilter(as(actor.Operator), url.Values{"stream": {"activity"}}); fault.KindOf(err) != fault.Forbidden {
		t.Fatalf("operator asking for activity: %v", err)
	}
	f, err = eventfeed.ParseFilter(as(actor.Admin), url.Values{"stream": {"activity, activity"}, "category": {"authentication,configuration"}})
	if err != nil || !slices.Equal(f.Streams, []eventfeed.Stream{eventfeed.Activity}) ||
		!slices.Equal(f.Categories, []activity.Category{activity.Authentication, activity.Configuration}) {
		t.Fatalf("admin filter: %+v %v", f, err)
	}
	for _, bad := range []url.Values{
		{"stream": {"alerts"}},
		{"category": {"everything"}},
		{"stream": {"inventory"}, "category": {"audit"}},
	} {
		_, err := eventfeed.ParseFilter(as(actor.Admin), bad)
		e, ok := fault.As(err)
		if !ok || e.Kind != fault.Malformed || len(e.Fields) != 1 {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := eventfeed.ParseFilter(context.Background(), url.Values{}); fault.KindOf(err) != fault.Unauthorized {
		t.Fatalf("no actor: %v", err)
	}
}
