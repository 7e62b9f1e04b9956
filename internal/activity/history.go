package activity

import (
	"encoding/json"
	"sort"
	"strings"
)

// FieldChange is one field of an event shown as before → after.
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
	// HadBefore and HasAfter tell "was empty" from "did not exist" (a
	// created record has no before, a deleted one no after).
	HadBefore bool `json:"had_before"`
	HasAfter  bool `json:"has_after"`
	// Label is the field in words ("Location" for location_id) and the
	// hrefs the pages of the records Before and After name, when the
	// field is a reference read through [Names.Changes]; empty otherwise.
	Label      string `json:"-"`
	BeforeHref string `json:"-"`
	AfterHref  string `json:"-"`
}

// FieldChanges lists the fields an event's old and new values name, sorted,
// each with its value before and after, so a History tab can show "role:
// operator → manager" instead of two JSON blobs. Values that are not JSON
// objects come back as one row with an empty field name.
func (ev Event) FieldChanges() []FieldChange {
	before, okB := asObject(ev.Old)
	after, okA := asObject(ev.New)
	if !okB || !okA {
		return []FieldChange{{Before: rawText(ev.Old), After: rawText(ev.New), HadBefore: ev.Old != nil, HasAfter: ev.New != nil}}
	}
	names := map[string]bool{}
	for k := range before {
		names[k] = true
	}
	for k := range after {
		names[k] = true
	}
	out := make([]FieldChange, 0, len(names))
	for k := range names {
		b, hadB := before[k]
		a, hasA := after[k]
		out = append(out, FieldChange{Field: k, Before: valueText(b), After: valueText(a), HadBefore: hadB, HasAfter: hasA})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// asObject decodes v as a JSON object; nil decodes as an empty one.
func asObject(v any) (map[string]json.RawMessage, bool) {
	if v == nil {
		return map[string]json.RawMessage{}, true
	}
	raw, ok := v.(json.RawMessage)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, false
		}
		raw = b
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// valueText shows a JSON value plainly: strings without quotes, null as
// empty, an object as "key: value" pairs in key order and an array as its
// items, so that no raw JSON reaches a person (a batch's {"allocate":2}
// reads "allocate: 2").
func valueText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err == nil && obj != nil {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + valueText(obj[k])
		}
		return strings.Join(parts, ", ")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err == nil {
		parts := make([]string, len(list))
		for i, v := range list {
			parts[i] = valueText(v)
		}
		return strings.Join(parts, ", ")
	}
	return strings.TrimSpace(string(raw))
}

func rawText(v any) string {
	if v == nil {
		return ""
	}
	raw, ok := v.(json.RawMessage)
	if !ok {
		raw, _ = json.Marshal(v)
	}
	return valueText(raw)
}
