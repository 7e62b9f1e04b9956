package notify_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/notify"
)

// path reads a dotted path out of decoded JSON.
func path(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}

func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// checkOCSF checks an OCSF event, as decoded JSON, for the attributes its
// class requires (OCSF 1.3: the base event's, and each class's own).
func checkOCSF(t *testing.T, m map[string]any) int {
	t.Helper()
	num := func(keys ...string) int {
		f, ok := path(m, keys...).(float64)
		if !ok {
			t.Errorf("%v missing or not a number in %v", keys, m)
		}
		return int(f)
	}
	class, category, act := num("class_uid"), num("category_uid"), num("activity_id")
	if num("type_uid") != class*100+act {
		t.Errorf("type_uid %d, want class_uid*100+activity_id = %d", num("type_uid"), class*100+act)
	}
	if num("time") < int(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()/1000) {
		t.Errorf("time %v is not milliseconds since the epoch", m["time"])
	}
	if s := num("severity_id"); s < 0 || s > 6 && s != 99 {
		t.Errorf("severity_id %d", s)
	}
	if s := num("status_id"); s != 1 && s != 2 && s != 99 {
		t.Errorf("status_id %d", s)
	}
	for _, p := range [][]string{{"metadata", "version"}, {"metadata", "product", "name"}, {"metadata", "product", "vendor_name"}} {
		if !present(path(m, p...)) {
			t.Errorf("required %v missing", p)
		}
	}
	user := func(keys ...string) {
		if !present(path(m, append(keys, "name")...)) && !present(path(m, append(keys, "uid")...)) {
			t.Errorf("%v needs a name or uid: %v", keys, m)
		}
	}
	switch class {
	case 3002: // Authentication: user required; service or dst_endpoint
		if category != 3 {
			t.Errorf("authentication in category %d", category)
		}
		user("user")
		if !present(m["service"]) && !present(m["dst_endpoint"]) {
			t.Error("authentication needs service or dst_endpoint")
		}
	case 3001: // Account Change: user required
		if category != 3 {
			t.Errorf("account change in category %d", category)
		}
		user("user")
	case 6003: // API Activity: actor, api, src_endpoint required
		if category != 6 {
			t.Errorf("API activity in category %d", category)
		}
		user("actor", "user")
		if !present(path(m, "api", "operation")) {
			t.Error("api.operation missing")
		}
		if !present(path(m, "src_endpoint", "ip")) && !present(path(m, "src_endpoint", "name")) {
			t.Error("src_endpoint needs ip or name")
		}
	default:
		t.Errorf("class_uid %d is none of 3001, 3002, 6003", class)
	}
	return class*100 + act
}

func TestOCSFRequiredFieldsPerClass(t *testing.T) {
	at := time.Date(2026, 12, 7, 3, 4, 5, 0, time.UTC)
	user := func(ev activity.Event) activity.Event {
		ev.ActorKind, ev.ActorID, ev.ActorName, ev.IP, ev.UserAgent, ev.OccurredAt, ev.ID = "user", 3, "Ada", "203.0.113.9", "Mozilla/5.0", at, 41
		return ev
	}
	for _, c := range []struct {
		ev       activity.Event
		typeUID  int
		statusID int
	}{
		{user(activity.Event{Action: activity.Login, Category: activity.Authentication, EntityType: "users", EntityID: "3"}), 300201, 1},
		{user(activity.Event{Action: activity.Logout, Category: activity.Authentication, EntityType: "users", EntityID: "3"}), 300202, 1},
		{activity.Event{ID: 5, OccurredAt: at, ActorKind: "anonymous", ActorName: "eve@example.com", IP: "198.51.100.4", Action: activity.LoginFailed,
			Category: activity.Authentication, EntityType: "users", New: json.RawMessage(`{"email":"eve@example.com","reason":"wrong password"}`)}, 300201, 2},
		{user(activity.Event{Action: activity.Create, Category: activity.Users, EntityType: "users", EntityID: "9", New: json.RawMessage(`{"email":"bo@example.com"}`)}), 300101, 1},
		{user(activity.Event{Action: activity.RoleChange, Category: activity.Users, EntityType: "users", EntityID: "9"}), 300107, 1},
		{user(activity.Event{Action: activity.PasswordChange, Category: activity.Users, EntityType: "users", EntityID: "9"}), 300103, 1},
		{user(activity.Event{Action: activity.Delete, Category: activity.Users, EntityType: "users", EntityID: "9"}), 300106, 1},
		{user(activity.Event{Action: activity.Update, Category: activity.Products, EntityType: "items", EntityID: "12"}), 600303, 1},
		{user(activity.Event{Action: activity.Export, Category: activity.Audit, EntityType: "activity_events"}), 600302, 1},
		{activity.Event{ID: 8, OccurredAt: at, ActorKind: "system", ActorName: "alerts", Action: "ALERT_RAISED", Category: activity.Audit,
			EntityType: "alerts", EntityID: "4", New: json.RawMessage(`{"alert_id":4}`)}, 600399, 1},
	} {
		o := notify.OCSFFor(1, 77, c.ev)
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if got := checkOCSF(t, m); got != c.typeUID {
			t.Errorf("%s %s: type_uid %d, want %d", c.ev.Action, c.ev.EntityType, got, c.typeUID)
		}
		if int(m["status_id"].(float64)) != c.statusID {
			t.Errorf("%s: status_id %v, want %d", c.ev.Action, m["status_id"], c.statusID)
		}
		if c.ev.UserAgent != "" && path(m, "http_request", "user_agent") != c.ev.UserAgent {
			t.Errorf("%s: user agent %v", c.ev.Action, path(m, "http_request", "user_agent"))
		}
		if c.ev.IP != "" && path(m, "src_endpoint", "ip") != c.ev.IP {
			t.Errorf("%s: src ip %v", c.ev.Action, path(m, "src_endpoint", "ip"))
		}
		if int64(m["time"].(float64)) != at.UnixMilli() {
			t.Errorf("time %v", m["time"])
		}
	}
	failed := notify.OCSFFor(1, 1, activity.Event{ActorKind: "anonymous", ActorName: "eve@example.com", Action: activity.LoginFailed, Category: activity.Authentication})
	if failed.User == nil || failed.User.Name != "eve@example.com" {
		t.Fatalf("failed login's subject: %+v", failed.User)
	}
}
