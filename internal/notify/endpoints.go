package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Stream is a kind of event an endpoint can subscribe to.
type Stream string

const (
	// ActivityStream is activity events, of one category or all.
	ActivityStream Stream = "activity"
	// ChangesStream is inventory change-log entries, of one action type or all.
	ChangesStream Stream = "changes"
	// AlertsStream is the alerts raised and acknowledged (activity events
	// of entity type "alerts").
	AlertsStream Stream = "alerts"
)

// Streams lists the streams in the order pages show them.
func Streams() []Stream { return []Stream{ActivityStream, ChangesStream, AlertsStream} }

// Label names the stream for people.
func (s Stream) Label() string {
	switch s {
	case ActivityStream:
		return "Activity events"
	case ChangesStream:
		return "Inventory change log"
	case AlertsStream:
		return "Alerts"
	}
	return string(s)
}

// Choice is one filter a stream offers: its value and its name for people.
type Choice struct {
	Value string
	Label string
}

// CategoryChoices are the activity stream's filters.
func CategoryChoices() []Choice {
	var out []Choice
	for _, c := range activity.Categories() {
		out = append(out, Choice{Value: string(c), Label: c.Label()})
	}
	return out
}

// ActionChoices are the change-log stream's filters.
func ActionChoices() []Choice {
	var out []Choice
	for _, a := range inventory.Actions() {
		out = append(out, Choice{Value: string(a), Label: a.Label()})
	}
	return out
}

// Format is how a delivery's body is written.
type Format string

const (
	// JSON is our documented envelope (docs/webhooks.md).
	JSON Format = "json"
	// OCSF is an Open Cybersecurity Schema Framework event (activity events only).
	OCSF Format = "ocsf"
)

// Label names the format for people.
func (f Format) Label() string {
	if f == OCSF {
		return "OCSF"
	}
	return "JSON"
}

// Endpoint is a receiver of webhooks.
type Endpoint struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	URL     string `json:"url"`
	Enabled bool   `json:"enabled"`
	// SecretHint is the start of the secret, to tell secrets apart.
	SecretHint      string         `json:"secret_hint"`
	SecretRotatedAt time.Time      `json:"secret_rotated_at"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	Subscriptions   []Subscription `json:"subscriptions"`
	// Pending and Failed count its deliveries in those states.
	Pending int `json:"pending_deliveries"`
	Failed  int `json:"failed_deliveries"`
}

// Subscription is one stream an endpoint receives.
type Subscription struct {
	ID     int64  `json:"id"`
	Stream Stream `json:"stream"`
	// Filter is the activity category or change-log action type; empty for all.
	Filter    string    `json:"filter"`
	Format    Format    `json:"format"`
	CreatedAt time.Time `json:"created_at"`
}

// Describe says what the subscription delivers, for pages and events.
func (s Subscription) Describe() string {
	what := s.Stream.Label()
	switch {
	case s.Stream == ActivityStream && s.Filter != "":
		what = "Activity events: " + strings.ToLower(activity.Category(s.Filter).Label())
	case s.Stream == ActivityStream:
		what = "Activity events: all categories"
	case s.Stream == ChangesStream && s.Filter != "":
		what = "Change log: " + strings.ToLower(inventory.Action(s.Filter).Label())
	case s.Stream == ChangesStream:
		what = "Change log: all action types"
	}
	return what + ", " + s.Format.Label()
}

// EndpointInput is what an admin sets on an endpoint.
type EndpointInput struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// SubscriptionInput is one stream to subscribe to.
type SubscriptionInput struct {
	Stream Stream `json:"stream"`
	Filter string `json:"filter"`
	Format Format `json:"format"`
}

// maxNameLength bounds an endpoint's name.
const maxNameLength = 100

func (w *Webhooks) checkEndpoint(ctx context.Context, in EndpointInput) (EndpointInput, error) {
	bad := fault.Fields{}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case plaintext.Problem(in.Name) != "":
		bad.Add("name", "the name "+plaintext.Problem(in.Name))
	case strings.ContainsAny(in.Name, "\t\r\n"):
		bad.Add("name", "use one line")
	case in.Name == "":
		bad.Add("name", "enter a name that says who receives the events, such as “Splunk” or “ERP”")
	case utf8.RuneCountInString(in.Name) > maxNameLength:
		bad.Add("name", fmt.Sprintf("use at most %d characters", maxNameLength))
	}
	u, err := w.opts.Policy.CheckURL(ctx, in.URL)
	if e, ok := fault.As(err); ok && e.Fields["url"] != "" {
		bad.Add("url", e.Fields["url"])
	} else if err != nil {
		return in, err
	}
	in.URL = u
	return in, bad.Err()
}

// checkSubscription validates in; field names the form field ("format",
// or "subscriptions[2].format" for one of several).
func checkSubscription(in SubscriptionInput, prefix string) (SubscriptionInput, error) {
	bad := fault.Fields{}
	in.Filter = strings.TrimSpace(in.Filter)
	if in.Format == "" {
		in.Format = JSON
	}
	switch in.Stream {
	case ActivityStream:
		if in.Filter != "" && !slices.Contains(activity.Categories(), activity.Category(in.Filter)) {
			bad.Add(prefix+"filter", "choose one of the activity categories: "+joinStrings(activity.Categories()))
		}
	case ChangesStream:
		if in.Filter != "" && !inventory.Action(in.Filter).Valid() {
			bad.Add(prefix+"filter", "choose one of the action types: "+joinStrings(inventory.Actions()))
		}
	case AlertsStream:
		if in.Filter != "" {
			bad.Add(prefix+"filter", "alerts have no filter; leave it empty")
		}
	default:
		bad.Add(prefix+"stream", "choose activity, changes or alerts")
	}
	switch in.Format {
	case JSON:
	case OCSF:
		if in.Stream != ActivityStream {
			bad.Add(prefix+"format", "OCSF is offered for activity events; choose JSON for the change log and alerts")
		}
	default:
		bad.Add(prefix+"format", "choose json or ocsf")
	}
	return in, bad.Err()
}

func joinStrings[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func secretHint(secret string) string {
	if len(secret) <= len(secretPrefix)+4 {
		return secretPrefix + "…"
	}
	return secret[:len(secretPrefix)+4] + "…"
}

// CreateEndpoint adds an endpoint with its subscriptions and a new secret,
// which it returns: the only time the secret is shown.
func (w *Webhooks) CreateEndpoint(ctx context.Context, in EndpointInput, subs []SubscriptionInput) (Endpoint, string, error) {
	who, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return Endpoint{}, "", err
	}
	in, err = w.checkEndpoint(ctx, in)
	bad := fault.Fields{}
	if e, ok := fault.As(err); ok && e.Kind == fault.Invalid {
		for k, v := range e.Fields {
			bad.Add(k, v)
		}
	} else if err != nil {
		return Endpoint{}, "", err
	}
	seen := map[string]bool{}
	for i := range subs {
		prefix := ""
		if len(subs) > 1 {
			prefix = fmt.Sprintf("subscriptions[%d].", i)
		}
		s, err := checkSubscription(subs[i], prefix)
		if e, ok := fault.As(err); ok {
			for k, v := range e.Fields {
				bad.Add(k, v)
			}
			continue
		}
		subs[i] = s
		key := string(s.Stream) + "/" + s.Filter
		if seen[key] {
			bad.Add(prefix+"stream", "this stream is listed twice")
		}
		seen[key] = true
	}
	if err := bad.Err(); err != nil {
		return Endpoint{}, "", err
	}
	secret, err := NewSecret()
	if err != nil {
		return Endpoint{}, "", err
	}
	var id int64
	err = w.db.InTx(ctx, func(tx *store.Tx) error {
		now := store.Micros(time.Now())
		if err := tx.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (workspace_id, name, url, secret, enabled, created_at, updated_at, secret_rotated_at)
			VALUES ($1, $2, $3, $4, 1, $5, $5, $5) RETURNING id`, who.WorkspaceID, in.Name, in.URL, secret, now).Scan(&id); err != nil {
			return fmt.Errorf("create webhook endpoint: %w", err)
		}
		var described []string
		for _, s := range subs {
			if _, err := insertSubscription(ctx, tx, who.WorkspaceID, id, s); err != nil {
				return err
			}
			described = append(described, Subscription{Stream: s.Stream, Filter: s.Filter, Format: s.Format}.Describe())
		}
		_, err := activity.Record(ctx, tx, activity.Event{Action: activity.Create, Category: activity.Configuration,
			EntityType: EntityType, EntityID: fmt.Sprint(id),
			New:         map[string]any{"name": in.Name, "url": in.URL, "enabled": true, "subscriptions": strings.Join(described, "; ")},
			Description: "Webhook endpoint “" + in.Name + "” created"})
		return err
	})
	if err != nil {
		return Endpoint{}, "", err
	}
	e, err := w.GetEndpoint(ctx, id)
	return e, secret, err
}

// EntityType names webhook endpoints in the activity log.
const EntityType = "webhooks"

func insertSubscription(ctx context.Context, tx *store.Tx, ws, endpointID int64, s SubscriptionInput) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO webhook_subscriptions (workspace_id, endpoint_id, stream, filter, format, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, ws, endpointID, string(s.Stream), s.Filter, string(s.Format), store.Micros(time.Now())).Scan(&id)
	if store.IsUniqueViolation(err) {
		return 0, fault.Field("stream", "the endpoint already receives this stream")
	}
	if err != nil {
		return 0, fmt.Errorf("add webhook subscription: %w", err)
	}
	return id, nil
}

// endpointForUpdate reads an endpoint inside a change, locking its row.
func endpointForUpdate(ctx context.Context, tx *store.Tx, ws, id int64) (Endpoint, string, error) {
	var e Endpoint
	var secret string
	var enabled int
	var created, updated, rotated int64
	err := tx.QueryRowContext(ctx, `SELECT id, name, url, secret, enabled, created_at, updated_at, secret_rotated_at
		FROM webhook_endpoints e WHERE workspace_id = $1 AND id = $2`+tx.ForUpdate("e"), ws, id).
		Scan(&e.ID, &e.Name, &e.URL, &secret, &enabled, &created, &updated, &rotated)
	if err != nil {
		return Endpoint{}, "", store.NotFound(err, "webhook endpoint")
	}
	e.Enabled = enabled == 1
	e.CreatedAt, e.UpdatedAt, e.SecretRotatedAt = store.Time(created), store.Time(updated), store.Time(rotated)
	e.SecretHint = secretHint(secret)
	return e, secret, nil
}

// EndpointChange is a change to an endpoint; nil fields stay as they are.
type EndpointChange struct {
	Name    *string `json:"name,omitempty"`
	URL     *string `json:"url,omitempty"`
	Enabled *bool   `json:"enabled,omitempty"`
}

// UpdateEndpoint changes an endpoint's name, URL or state in one audited
// change. A disabled endpoint gets no new deliveries, and its waiting ones
// are not sent (they fail, and can be redelivered once it is enabled).
func (w *Webhooks) UpdateEndpoint(ctx context.Context, id int64, c EndpointChange) (Endpoint, error) {
	who, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return Endpoint{}, err
	}
	var checked EndpointInput
	if c.Name != nil || c.URL != nil {
		// Fields not given are checked as they are stored.
		current, err := w.GetEndpoint(ctx, id)
		if err != nil {
			return Endpoint{}, err
		}
		in := EndpointInput{Name: current.Name, URL: current.URL}
		if c.Name != nil {
			in.Name = *c.Name
		}
		if c.URL != nil {
			in.URL = *c.URL
		}
		if checked, err = w.checkEndpoint(ctx, in); err != nil {
			return Endpoint{}, err
		}
	}
	err = w.db.InTx(ctx, func(tx *store.Tx) error {
		old, _, err := endpointForUpdate(ctx, tx, who.WorkspaceID, id)
		if err != nil {
			return err
		}
		now := store.Micros(time.Now())
		before, after := map[string]any{}, map[string]any{}
		var said []string
		if c.Name != nil || c.URL != nil {
			if old.Name != checked.Name {
				before["name"], after["name"] = old.Name, checked.Name
			}
			if old.URL != checked.URL {
				before["url"], after["url"] = old.URL, checked.URL
			}
			if len(after) > 0 {
				if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET name = $1, url = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5`,
					checked.Name, checked.URL, now, who.WorkspaceID, id); err != nil {
					return fmt.Errorf("update webhook endpoint: %w", err)
				}
				said = append(said, "changed")
			}
		}
		if c.Enabled != nil && *c.Enabled != old.Enabled {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET enabled = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4`,
				boolInt(*c.Enabled), now, who.WorkspaceID, id); err != nil {
				return fmt.Errorf("switch webhook endpoint: %w", err)
			}
			before["enabled"], after["enabled"] = old.Enabled, *c.Enabled
			if *c.Enabled {
				said = append(said, "enabled")
			} else {
				said = append(said, "disabled")
			}
		}
		if len(said) == 0 {
			return nil
		}
		name := old.Name
		if n, ok := after["name"].(string); ok {
			name = n
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Configuration,
			EntityType: EntityType, EntityID: fmt.Sprint(id), Old: before, New: after,
			Description: "Webhook endpoint “" + name + "” " + strings.Join(said, " and ")})
		return err
	})
	if err != nil {
		return Endpoint{}, err
	}
	return w.GetEndpoint(ctx, id)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RotateSecret gives an endpoint a new secret and returns it (shown once).
// Deliveries sent from then on are signed with it, retries included.
func (w *Webhooks) RotateSecret(ctx context.Context, id int64) (string, error) {
	who, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return "", err
	}
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	err = w.db.InTx(ctx, func(tx *store.Tx) error {
		old, _, err := endpointForUpdate(ctx, tx, who.WorkspaceID, id)
		if err != nil {
			return err
		}
		now := store.Micros(time.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET secret = $1, secret_rotated_at = $2, updated_at = $2 WHERE workspace_id = $3 AND id = $4`,
			secret, now, who.WorkspaceID, id); err != nil {
			return fmt.Errorf("rotate webhook secret: %w", err)
		}
		// The hints tell the two secrets apart; the secrets stay out of the log.
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Configuration,
			EntityType: EntityType, EntityID: fmt.Sprint(id),
			Old: map[string]any{"secret": old.SecretHint}, New: map[string]any{"secret": secretHint(secret)},
			Description: "Signing secret of webhook endpoint “" + old.Name + "” rotated"})
		return err
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// AddSubscription subscribes an endpoint to one more stream.
func (w *Webhooks) AddSubscription(ctx context.Context, endpointID int64, in SubscriptionInput) (Subscription, error) {
	who, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return Subscription{}, err
	}
	if in, err = checkSubscription(in, ""); err != nil {
		return Subscription{}, err
	}
	var id int64
	err = w.db.InTx(ctx, func(tx *store.Tx) error {
		e, _, err := endpointForUpdate(ctx, tx, who.WorkspaceID, endpointID)
		if err != nil {
			return err
		}
		if id, err = insertSubscription(ctx, tx, who.WorkspaceID, endpointID, in); err != nil {
			return err
		}
		s := Subscription{Stream: in.Stream, Filter: in.Filter, Format: in.Format}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Configuration,
			EntityType: EntityType, EntityID: fmt.Sprint(endpointID),
			New:         map[string]any{"subscribed": s.Describe()},
			Description: "Webhook endpoint “" + e.Name + "” subscribed to " + s.Describe()})
		return err
	})
	if err != nil {
		return Subscription{}, err
	}
	return Subscription{ID: id, Stream: in.Stream, Filter: in.Filter, Format: in.Format, CreatedAt: time.Now().UTC()}, nil
}

// RemoveSubscription unsubscribes an endpoint from one stream.
func (w *Webhooks) RemoveSubscription(ctx context.Context, endpointID, subscriptionID int64) error {
	who, err := actor.Require(ctx, actor.ManageAlerts)
	if err != nil {
		return err
	}
	return w.db.InTx(ctx, func(tx *store.Tx) error {
		e, _, err := endpointForUpdate(ctx, tx, who.WorkspaceID, endpointID)
		if err != nil {
			return err
		}
		subs, err := subscriptionsOf(ctx, tx, who.WorkspaceID, endpointID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(subs, func(s Subscription) bool { return s.ID == subscriptionID })
		if i < 0 {
			return fault.New(fault.NotFound, "subscription not found")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_subscriptions WHERE workspace_id = $1 AND endpoint_id = $2 AND id = $3`,
			who.WorkspaceID, endpointID, subscriptionID); err != nil {
			return fmt.Errorf("remove webhook subscription: %w", err)
		}
		_, err = activity.Record(ctx, tx, activity.Event{Action: activity.Update, Category: activity.Configuration,
			EntityType: EntityType, EntityID: fmt.Sprint(endpointID),
			Old:         map[string]any{"subscribed": subs[i].Describe()},
			Description: "Webhook endpoint “" + e.Name + "” unsubscribed from " + subs[i].Describe()})
		return err
	})
}

func subscriptionsOf(ctx context.Context, q store.Querier, ws, endpointID int64) ([]Subscription, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, stream, filter, format, created_at FROM webhook_subscriptions
		WHERE workspace_id = $1 AND endpoint_id = $2 ORDER BY stream, filter`, ws, endpointID)
	if err != nil {
		return nil, fmt.Errorf("webhook subscriptions: %w", err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		var s Subscription
		var created int64
		if err := rows.Scan(&s.ID, &s.Stream, &s.Filter, &s.Format, &created); err != nil {
			return nil, err
		}
		s.CreatedAt = store.Time(created)
		out = append(out, s)
	}
	return out, rows.Err()
}

const endpointColumns = `e.id, e.name, e.url, e.secret, e.enabled, e.created_at, e.updated_at, e.secret_rotated_at,
	(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.workspace_id = e.workspace_id AND d.endpoint_id = e.id AND d.status = 'pending'),
	(SELECT COUNT(*) FROM webhook_deliveries d WHERE d.workspace_id = e.workspace_id AND d.endpoint_id = e.id AND d.status = 'failed')`

func scanEndpoint(row interface{ Scan(...any) error }) (Endpoint, error) {
	var e Endpoint
	var secret string
	var enabled int
	var created, updated, rotated int64
	if err := row.Scan(&e.ID, &e.Name, &e.URL, &secret, &enabled, &created, &updated, &rotated, &e.Pending, &e.Failed); err != nil {
		return Endpoint{}, err
	}
	e.Enabled = enabled == 1
	e.CreatedAt, e.UpdatedAt, e.SecretRotatedAt = store.Time(created), store.Time(updated), store.Time(rotated)
	e.SecretHint = secretHint(secret)
	return e, nil
}

// ListEndpoints returns the workspace's endpoints with their subscriptions.
func (w *Webhooks) ListEndpoints(ctx context.Context) ([]Endpoint, error) {
	who, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return nil, err
	}
	rows, err := w.db.Read().QueryContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints e WHERE e.workspace_id = $1 ORDER BY e.name, e.id`, who.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("webhook endpoints: %w", err)
	}
	var out []Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Subscriptions, err = subscriptionsOf(ctx, w.db.Read(), who.WorkspaceID, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetEndpoint returns one endpoint with its subscriptions.
func (w *Webhooks) GetEndpoint(ctx context.Context, id int64) (Endpoint, error) {
	who, err := actor.Require(ctx, actor.ViewAlerts)
	if err != nil {
		return Endpoint{}, err
	}
	e, err := scanEndpoint(w.db.Read().QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints e WHERE e.workspace_id = $1 AND e.id = $2`, who.WorkspaceID, id))
	if err != nil {
		return Endpoint{}, store.NotFound(err, "webhook endpoint")
	}
	if e.Subscriptions, err = subscriptionsOf(ctx, w.db.Read(), who.WorkspaceID, id); err != nil {
		return Endpoint{}, err
	}
	return e, nil
}
