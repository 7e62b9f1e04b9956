package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/plaintext"
)

// decodeBody runs DecodeJSON on body as a request with a JSON content type.
func decodeBody(body []byte, v any) error {
	r := httptest.NewRequest("POST", "/api/v1/x", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return DecodeJSON(httptest.NewRecorder(), r, v)
}

// checkRefusal holds a refusal to the API's promise: a client fault (4xx),
// never Internal, and one with a field whenever a field is to blame.
func checkRefusal(t *testing.T, body []byte, err error) {
	t.Helper()
	e, ok := fault.As(err)
	if !ok || e.Kind == fault.Internal {
		t.Fatalf("body %q: refusal %v is not a client fault", body, err)
	}
	if status := fault.HTTPStatus(e.Kind); status < 400 || status > 499 {
		t.Fatalf("body %q: refusal answers %d", body, status)
	}
	if e.Kind == fault.Invalid && len(e.Fields) == 0 {
		t.Fatalf("body %q: an Invalid refusal without a field: %v", body, err)
	}
}

// fuzzDecode is the property every body shares: DecodeJSON either refuses
// as checkRefusal says, or accepts valid JSON whose decoded value encodes
// to a body that decodes to the same value again.
func fuzzDecode[T any](t *testing.T, body []byte) (T, bool) {
	var v T
	err := decodeBody(body, &v)
	if err != nil {
		checkRefusal(t, body, err)
		return v, false
	}
	if !json.Valid(body) {
		t.Fatalf("accepted a body that is not JSON: %q", body)
	}
	var tree any
	json.Unmarshal(body, &tree)
	if s, ok := controlText(tree); !ok {
		t.Fatalf("accepted %q holding the string %q", body, s)
	}
	first, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("decoded %#v does not encode: %v", v, err)
	}
	var again T
	if err := decodeBody(first, &again); err != nil {
		t.Fatalf("%q decoded, encoded as %s, is refused: %v", body, first, err)
	}
	second, _ := json.Marshal(again)
	if !bytes.Equal(first, second) {
		t.Fatalf("%q: %s then %s", body, first, second)
	}
	return v, true
}

// controlText finds a string (or member name) of a decoded JSON value that
// plaintext.Check refuses.
func controlText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, plaintext.Check("x", v) == nil
	case []any:
		for _, e := range v {
			if s, ok := controlText(e); !ok {
				return s, false
			}
		}
	case map[string]any:
		for k, e := range v {
			if s, ok := controlText(k); !ok {
				return s, false
			}
			if s, ok := controlText(e); !ok {
				return s, false
			}
		}
	}
	return "", true
}

var commonBodies = []string{``, `{}`, `[]`, `null`, `{"a":1}`, `{} {}`, `{"quantity":"1","quantity":"2"}`, `{"name":"a\u0000b"}`,
	`{"name":"\u001b[31m"}`, "{\"name\":\"\xff\"}", `{"name":"\ud800"}`, `{"name":` + "\"\u0085\"}"}

// FuzzDecodeReceipt: the body of POST /api/v1/inventory/receipts.
func FuzzDecodeReceipt(f *testing.F) {
	for _, s := range append(commonBodies, `{"sku":"OIL-5","location":"WH1","quantity":"2.5"}`, `{"item_id":1,"location_id":2,"quantity":3,"lot":"L1"}`,
		`{"sku":"OIL-5","location":"WH1","quantity":1e400}`, `{"sku":"A","location":"B","quantity":"1","reason":"r","reference":"x","occurred_at":"2026-01-01T00:00:00Z"}`,
		`{"quantity":null}`, `{"quantity":true}`, `{"item_id":"1"}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, ok := fuzzDecode[inventory.Receipt](t, body)
		if ok && m.Quantity != "" {
			if _, err := inventory.ParseQuantity(string(m.Quantity), inventory.MaxScale); err == nil && !json.Valid([]byte(`"`+string(m.Quantity)+`"`)) {
				t.Fatalf("quantity %q", m.Quantity)
			}
		}
	})
}

// FuzzDecodeMovementBatch: the body of POST /api/v1/inventory/movements,
// each movement decoded by its type as the handler does; a bad movement is
// a Malformed fault naming it (movements[i]).
func FuzzDecodeMovementBatch(f *testing.F) {
	for _, s := range append(commonBodies, `{"movements":[{"type":"receipt","sku":"A","location":"WH1","quantity":"1"},{"type":"issue","record_id":3,"quantity":"1"}]}`,
		`{"movements":[{"type":"move","record_id":1,"to_location":"WH2","quantity":"1"}]}`, `{"movements":[{"type":"explode"}]}`,
		`{"movements":[{"sku":"A"}]}`, `{"movements":[1]}`, `{"movements":[{"type":"receipt","colour":"red"}]}`, `{"movements":null}`,
		`{"movements":[{"type":"receipt","type":"issue"}]}`, `{"movements":[{"type":["receipt"]}]}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, ok := fuzzDecode[struct {
			Movements []json.RawMessage `json:"movements"`
		}](t, body)
		if !ok {
			return
		}
		for i, raw := range in.Movements {
			m, err := decodeBatchMovement(raw)
			if err != nil {
				e, ok := fault.As(err)
				if !ok || e.Kind != fault.Malformed || e.Message == "" {
					t.Fatalf("movement %d %s: refusal %v is not a Malformed fault", i, raw, err)
				}
				continue
			}
			var kind struct {
				Type string `json:"type"`
			}
			json.Unmarshal(raw, &kind)
			want, ok := newMovement(kind.Type)
			if !ok || reflect.TypeOf(m) != reflect.TypeOf(want) {
				t.Fatalf("movement %s decoded as %T", raw, m)
			}
		}
	})
}

// FuzzDecodeItem: the body of POST /api/v1/items.
func FuzzDecodeItem(f *testing.F) {
	for _, s := range append(commonBodies, `{"sku":"OIL-5","name":"Engine oil","kind":"material","unit":"l","scale":2}`,
		`{"sku":"A","scale":-1}`, `{"scale":1.5}`, `{"scale":99999999999999999999}`, `{"kind":5}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { fuzzDecode[inventory.ItemInput](t, body) })
}

// FuzzDecodeAuditLog: the body of POST /api/v1/audit-logs and its record
// id, which may be a JSON string or number and is refused with its field
// otherwise.
func FuzzDecodeAuditLog(f *testing.F) {
	for _, s := range append(commonBodies, `{"user_id":1,"username":"erp","action":"UPDATE","table_name":"orders","record_id":42,"old_values":{"a":1},"new_values":{"a":2},"description":"d","ip_address":"203.0.113.9"}`,
		`{"record_id":"SO-1"}`, `{"record_id":[1]}`, `{"record_id":1.5}`, `{"record_id":-3}`, `{"old_values":"x"}`, `{"new_values":[1,2,{"k":null}]}`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, ok := fuzzDecode[newAuditLog](t, body)
		if !ok {
			return
		}
		if _, err := activity.RecordIDText(in.RecordID); err != nil {
			e, ok := fault.As(err)
			if !ok || e.Kind == fault.Internal || len(e.Fields) == 0 {
				t.Fatalf("record_id %s: refusal %v names no field", in.RecordID, err)
			}
		}
	})
}
