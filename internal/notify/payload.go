package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

// Envelope is the JSON body of a delivery (docs/webhooks.md): the Standard
// Webhooks payload shape (type, timestamp, data) plus the entry's place in
// the workspace's sealed sequence, which receivers can use to order
// deliveries and to spot a gap.
type Envelope struct {
	Type        string    `json:"type"`
	Timestamp   time.Time `json:"timestamp"`
	WorkspaceID int64     `json:"workspace_id"`
	Sequence    int64     `json:"sequence"`
	Data        any       `json:"data"`
}

// ActivityData is an activity event in an envelope.
type ActivityData struct {
	ID          int64           `json:"id"`
	OccurredAt  time.Time       `json:"occurred_at"`
	Actor       ActorData       `json:"actor"`
	Action      string          `json:"action"`
	Category    string          `json:"category"`
	EntityType  string          `json:"entity_type"`
	EntityID    string          `json:"entity_id"`
	Description string          `json:"description,omitempty"`
	Old         json.RawMessage `json:"old_values,omitempty"`
	New         json.RawMessage `json:"new_values,omitempty"`
	IPAddress   string          `json:"ip_address,omitempty"`
	UserAgent   string          `json:"user_agent,omitempty"`
	RequestID   string          `json:"request_id,omitempty"`
}

// ActorData names who acted.
type ActorData struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"`
}

// isAlert reports whether ev is one of the alerts area's events (the
// contract in docs/webhooks.md: entity type "alerts").
func isAlert(ev activity.Event) bool { return ev.EntityType == "alerts" }

// eventType is the envelope's type: "activity.login_failed",
// "alert.raised", "change.user_correction".
func activityType(ev activity.Event) string {
	if isAlert(ev) {
		return "alert." + strings.ToLower(strings.TrimPrefix(string(ev.Action), "ALERT_"))
	}
	return "activity." + strings.ToLower(string(ev.Action))
}

func changeType(e inventory.Entry) string { return "change." + string(e.Action) }

func rawJSON(v any) json.RawMessage {
	switch x := v.(type) {
	case nil:
		return nil
	case json.RawMessage:
		return x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		return b
	}
}

func activityEnvelope(ws, seq int64, ev activity.Event) Envelope {
	return Envelope{Type: activityType(ev), Timestamp: ev.OccurredAt, WorkspaceID: ws, Sequence: seq, Data: ActivityData{
		ID: ev.ID, OccurredAt: ev.OccurredAt, Actor: ActorData{Kind: ev.ActorKind, ID: ev.ActorID, Name: ev.ActorName},
		Action: string(ev.Action), Category: string(ev.Category), EntityType: ev.EntityType, EntityID: ev.EntityID,
		Description: ev.Description, Old: rawJSON(ev.Old), New: rawJSON(ev.New),
		IPAddress: ev.IP, UserAgent: ev.UserAgent, RequestID: ev.RequestID,
	}}
}

func changeEnvelope(ws, seq int64, e inventory.Entry) Envelope {
	return Envelope{Type: changeType(e), Timestamp: e.RecordedAt, WorkspaceID: ws, Sequence: seq, Data: e}
}

// OCSF (schema.ocsf.io) events for activity events; docs/webhooks.md has
// the mapping. Authentication (3002) for logins and logouts, Account
// Change (3001) for changes to users, API Activity (6003) for the rest.
const (
	ocsfVersion = "1.3.0"
	// productName and vendorName fill metadata.product.
	productName = "stocktrail"
	vendorName  = "stocktrail"

	classAccountChange  = 3001
	classAuthentication = 3002
	classAPIActivity    = 6003
	categoryIAM         = 3
	categoryApplication = 6

	severityInformational = 1
	severityLow           = 2
	severityMedium        = 3

	statusSuccess = 1
	statusFailure = 2
	statusOther   = 99
	activityOther = 99
)

// OCSFUser is OCSF's user object.
type OCSFUser struct {
	UID    string `json:"uid,omitempty"`
	Name   string `json:"name,omitempty"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type,omitempty"`
}

// OCSFEvent holds the attributes the three classes use; each class fills
// its required ones (checked per class in payload_test.go).
type OCSFEvent struct {
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	// Time is milliseconds since the epoch.
	Time       int64  `json:"time"`
	SeverityID int    `json:"severity_id"`
	Severity   string `json:"severity"`
	StatusID   int    `json:"status_id"`
	Status     string `json:"status"`
	Message    string `json:"message,omitempty"`
	Metadata   struct {
		Version string `json:"version"`
		UID     string `json:"uid"`
		Product struct {
			Name       string `json:"name"`
			VendorName string `json:"vendor_name"`
			Version    string `json:"version,omitempty"`
		} `json:"product"`
		TenantUID      string `json:"tenant_uid"`
		Sequence       int64  `json:"sequence"`
		EventCode      string `json:"event_code"`
		LoggedTime     int64  `json:"logged_time,omitempty"`
		CorrelationUID string `json:"correlation_uid,omitempty"`
	} `json:"metadata"`
	Actor struct {
		User OCSFUser `json:"user"`
	} `json:"actor"`
	// User is the account logged in or changed (3002, 3001).
	User        *OCSFUser `json:"user,omitempty"`
	SrcEndpoint struct {
		IP string `json:"ip,omitempty"`
		// Name stands in when the event has no address (system work).
		Name string `json:"name,omitempty"`
	} `json:"src_endpoint"`
	HTTPRequest *struct {
		UserAgent string `json:"user_agent"`
	} `json:"http_request,omitempty"`
	Service *struct {
		Name string `json:"name"`
	} `json:"service,omitempty"`
	// API is the operation (6003).
	API *struct {
		Operation string `json:"operation"`
		Service   struct {
			Name string `json:"name"`
		} `json:"service"`
	} `json:"api,omitempty"`
	Resources []struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"resources,omitempty"`
	// Unmapped keeps what OCSF has no attribute for.
	Unmapped map[string]any `json:"unmapped,omitempty"`
}

var activityNames = map[int]map[int]string{
	classAuthentication: {1: "Logon", 2: "Logoff", activityOther: "Other"},
	classAccountChange:  {1: "Create", 2: "Enable", 3: "Password Change", 5: "Disable", 6: "Delete", 7: "Attach Policy", activityOther: "Other"},
	classAPIActivity:    {1: "Create", 2: "Read", 3: "Update", 4: "Delete", activityOther: "Other"},
}

// ocsfClass picks the class and activity of an event.
func ocsfClass(ev activity.Event) (class, act int) {
	switch ev.Action {
	case activity.Login, activity.LoginFailed:
		return classAuthentication, 1
	case activity.Logout, activity.SessionExpired:
		return classAuthentication, 2
	case activity.PasswordChange:
		return classAccountChange, 3
	case activity.RoleChange:
		return classAccountChange, 7
	}
	if ev.Category == activity.Users && ev.EntityType == "users" {
		switch ev.Action {
		case activity.Create:
			return classAccountChange, 1
		case activity.Delete:
			return classAccountChange, 6
		case activity.Revoke:
			return classAccountChange, 5
		}
		if enabled, ok := changedBool(ev, "disabled"); ok {
			if enabled {
				return classAccountChange, 5
			}
			return classAccountChange, 2
		}
		return classAccountChange, activityOther
	}
	switch ev.Action {
	case activity.Create:
		return classAPIActivity, 1
	case activity.Read, activity.Export:
		return classAPIActivity, 2
	case activity.Update:
		return classAPIActivity, 3
	case activity.Delete, activity.Revoke:
		return classAPIActivity, 4
	}
	return classAPIActivity, activityOther
}

// changedBool reads New[field] when the event changed that boolean.
func changedBool(ev activity.Event, field string) (bool, bool) {
	var m map[string]any
	if json.Unmarshal(rawJSON(ev.New), &m) != nil {
		return false, false
	}
	b, ok := m[field].(bool)
	return b, ok
}

func actorUser(ev activity.Event) OCSFUser {
	u := OCSFUser{Name: ev.ActorName, TypeID: 99, Type: ev.ActorKind}
	if ev.ActorID != 0 {
		u.UID = fmt.Sprint(ev.ActorID)
	}
	switch ev.ActorKind {
	case "user":
		u.TypeID, u.Type = 1, "User"
	case "system":
		u.TypeID, u.Type = 3, "System"
	}
	if u.Name == "" {
		u.Name = "anonymous"
	}
	return u
}

// OCSFFor maps an activity event to its OCSF event.
func OCSFFor(ws, seq int64, ev activity.Event) OCSFEvent {
	class, act := ocsfClass(ev)
	var o OCSFEvent
	o.ClassUID, o.ActivityID = class, act
	o.TypeUID = class*100 + act
	o.ActivityName = activityNames[class][act]
	switch class {
	case classAuthentication:
		o.ClassName, o.CategoryUID, o.CategoryName = "Authentication", categoryIAM, "Identity & Access Management"
	case classAccountChange:
		o.ClassName, o.CategoryUID, o.CategoryName = "Account Change", categoryIAM, "Identity & Access Management"
	default:
		o.ClassName, o.CategoryUID, o.CategoryName = "API Activity", categoryApplication, "Application Activity"
	}
	o.TypeName = o.ClassName + ": " + o.ActivityName
	o.Time = ev.OccurredAt.UnixMilli()
	o.SeverityID, o.Severity = severityInformational, "Informational"
	o.StatusID, o.Status = statusSuccess, "Success"
	switch {
	case ev.Action == activity.LoginFailed || ev.Action == activity.APIError:
		o.StatusID, o.Status = statusFailure, "Failure"
		o.SeverityID, o.Severity = severityLow, "Low"
	case isAlert(ev):
		o.SeverityID, o.Severity = severityMedium, "Medium"
	case ev.Action == activity.SessionExpired:
		o.StatusID, o.Status = statusOther, "Other"
	}
	o.Message = ev.Description
	if o.Message == "" {
		o.Message = string(ev.Action) + " " + ev.EntityType + " " + ev.EntityID
	}
	o.Metadata.Version = ocsfVersion
	o.Metadata.UID = fmt.Sprintf("%d-%d", ws, ev.ID)
	o.Metadata.Product.Name, o.Metadata.Product.VendorName = productName, vendorName
	o.Metadata.TenantUID = fmt.Sprint(ws)
	o.Metadata.Sequence = seq
	o.Metadata.EventCode = string(ev.Action)
	o.Metadata.CorrelationUID = ev.RequestID
	o.Actor.User = actorUser(ev)
	o.SrcEndpoint.IP = ev.IP
	if ev.IP == "" {
		// Background work has no client address; OCSF wants the endpoint
		// named somehow.
		o.SrcEndpoint.Name = productName
	}
	if ev.UserAgent != "" {
		o.HTTPRequest = &struct {
			UserAgent string `json:"user_agent"`
		}{ev.UserAgent}
	}
	switch class {
	case classAuthentication:
		// The subject logging in: the actor, or for a failed login the
		// account named in the event.
		subject := actorUser(ev)
		if ev.ActorKind == "anonymous" || ev.ActorKind == "" {
			subject = OCSFUser{Name: ev.ActorName, TypeID: 1, Type: "User"}
			if subject.Name == "" {
				subject.Name = targetName(ev)
			}
			if subject.Name == "" {
				subject.Name = "unknown"
			}
		}
		o.User = &subject
		o.Service = &struct {
			Name string `json:"name"`
		}{productName}
	case classAccountChange:
		o.User = &OCSFUser{UID: ev.EntityID, Name: targetName(ev), TypeID: 1, Type: "User"}
	default:
		o.API = &struct {
			Operation string `json:"operation"`
			Service   struct {
				Name string `json:"name"`
			} `json:"service"`
		}{Operation: string(ev.Action)}
		o.API.Service.Name = productName
		o.Resources = []struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		}{{Type: ev.EntityType, UID: ev.EntityID}}
	}
	o.Unmapped = map[string]any{"category": string(ev.Category), "entity_type": ev.EntityType, "entity_id": ev.EntityID}
	if old := rawJSON(ev.Old); old != nil {
		o.Unmapped["old_values"] = old
	}
	if nw := rawJSON(ev.New); nw != nil {
		o.Unmapped["new_values"] = nw
	}
	return o
}

// targetName is the changed account's name when the event gives it.
func targetName(ev activity.Event) string {
	for _, v := range []any{ev.New, ev.Old} {
		var m map[string]any
		if json.Unmarshal(rawJSON(v), &m) == nil {
			for _, k := range []string{"email", "name"} {
				if s, ok := m[k].(string); ok && s != "" {
					return s
				}
			}
		}
	}
	return ev.EntityID
}
