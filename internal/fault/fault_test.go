package fault_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/fault"
)

func TestHTTPStatus(t *testing.T) {
	want := map[fault.Kind]int{
		fault.Internal:         500,
		fault.NotFound:         404,
		fault.Invalid:          422,
		fault.Malformed:        400,
		fault.Conflict:         409,
		fault.Forbidden:        403,
		fault.Unauthorized:     401,
		fault.TooLarge:         413,
		fault.UnsupportedMedia: 415,
		fault.TooManyRequests:  429,
		fault.Gone:             410,
		fault.Unavailable:      503,
		fault.Kind(99):         500, // an unknown kind is an internal error
	}
	for kind, status := range want {
		if got := fault.HTTPStatus(kind); got != status {
			t.Errorf("HTTPStatus(%d) = %d, want %d", kind, got, status)
		}
	}
	// Every kind has its own status.
	seen := map[int]fault.Kind{}
	for k := fault.Internal; k <= fault.Unavailable; k++ {
		s := fault.HTTPStatus(k)
		if other, dup := seen[s]; dup {
			t.Errorf("kinds %d and %d share status %d", other, k, s)
		}
		seen[s] = k
	}
}

func TestNew(t *testing.T) {
	err := fault.New(fault.Conflict, "item %q already exists", "BOLT-M8")
	if err.Kind != fault.Conflict || err.Message != `item "BOLT-M8" already exists` || err.Error() != err.Message {
		t.Fatalf("New: %+v / %q", err, err.Error())
	}
	if !fault.Is(err, fault.Conflict) || fault.Is(err, fault.NotFound) || fault.KindOf(err) != fault.Conflict {
		t.Error("Is/KindOf disagree with the kind")
	}
}

func TestField(t *testing.T) {
	err := fault.Field("quantity", "must be positive")
	if err.Kind != fault.Invalid || fault.HTTPStatus(err.Kind) != 422 {
		t.Fatalf("Field kind %d", err.Kind)
	}
	if err.Fields["quantity"] != "must be positive" || len(err.Fields) != 1 {
		t.Errorf("Field fields %v", err.Fields)
	}
	if err.Message != "invalid quantity: must be positive" {
		t.Errorf("Field message %q", err.Message)
	}
	if !strings.Contains(err.Error(), "quantity: must be positive") {
		t.Errorf("Error() %q", err.Error())
	}
}

func TestFields(t *testing.T) {
	var none fault.Fields = fault.Fields{}
	if err := none.Err(); err != nil {
		t.Fatalf("no problems: %v", err)
	}

	one := fault.Fields{}
	one.Add("sku", "is required")
	one.Add("sku", "is too long") // the first problem per field wins
	err := one.Err()
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.Invalid || fe.Message != "invalid sku: is required" || fe.Fields["sku"] != "is required" || len(fe.Fields) != 1 {
		t.Fatalf("one field: %+v", fe)
	}

	many := fault.Fields{}
	many.Add("unit", "is required")
	many.Add("name", "is too long")
	err = many.Err()
	fe, _ = fault.As(err)
	if fe.Message != "some values are not valid" || fe.Fields["unit"] != "is required" || fe.Fields["name"] != "is too long" {
		t.Fatalf("two fields: %+v", fe)
	}
	// Error lists the fields in a stable order.
	if got := err.Error(); got != "some values are not valid; name: is too long; unit: is required" {
		t.Errorf("Error() %q", got)
	}
}

func TestWrapping(t *testing.T) {
	cause := fs.ErrNotExist
	base := &fault.Error{Kind: fault.NotFound, Message: "no such label sheet", Err: cause}

	// Through fmt.Errorf's %w, twice, the kind and the cause survive.
	wrapped := fmt.Errorf("print labels: %w", fmt.Errorf("sheet 3: %w", base))
	if !fault.Is(wrapped, fault.NotFound) || fault.HTTPStatus(fault.KindOf(wrapped)) != 404 {
		t.Errorf("kind lost through %%w: %v", fault.KindOf(wrapped))
	}
	var fe *fault.Error
	if !errors.As(wrapped, &fe) || fe != base {
		t.Errorf("errors.As did not find the fault")
	}
	if got, ok := fault.As(wrapped); !ok || got != base {
		t.Errorf("fault.As: %v %v", got, ok)
	}
	if !errors.Is(wrapped, fs.ErrNotExist) {
		t.Error("errors.Is does not reach the cause")
	}
	// The full text (for logs) carries the context and the cause; the
	// public message carries neither.
	if got := wrapped.Error(); got != "print labels: sheet 3: no such label sheet: file does not exist" {
		t.Errorf("Error() %q", got)
	}
	if got := fault.PublicMessage(wrapped); got != "no such label sheet" {
		t.Errorf("PublicMessage %q", got)
	}

	// Wrap adds context with defer and keeps the kind; it leaves nil alone.
	fails := func() (err error) {
		defer fault.Wrap(&err, "load item %d", 42)
		return fault.New(fault.Forbidden, "not yours")
	}
	err := fails()
	if !fault.Is(err, fault.Forbidden) || err.Error() != "load item 42: not yours" {
		t.Errorf("Wrap: %v", err)
	}
	succeeds := func() (err error) {
		defer fault.Wrap(&err, "load item %d", 42)
		return nil
	}
	if err := succeeds(); err != nil {
		t.Errorf("Wrap of nil: %v", err)
	}

	// An error without a kind is internal, also when wrapped.
	plain := fmt.Errorf("query: %w", errors.New("pq: relation does not exist"))
	if fault.KindOf(plain) != fault.Internal || fault.Is(plain, fault.NotFound) {
		t.Errorf("plain error kind %d", fault.KindOf(plain))
	}
	if _, ok := fault.As(plain); ok {
		t.Error("fault.As found a fault in a plain error")
	}
	if fault.Is(nil, fault.Internal) {
		t.Error("nil is an internal error")
	}
}

// The message shown to callers never carries an internal error's text (SQL,
// paths) nor a known error's cause.
func TestPublicMessageIsSafe(t *testing.T) {
	secret := errors.New(`SELECT password_hash FROM users: open /var/lib/stocktrail/stocktrail.db`)
	cases := []error{
		secret,
		fmt.Errorf("list users: %w", secret),
		&fault.Error{Kind: fault.Internal, Message: "looked up " + secret.Error(), Err: secret},
		&fault.Error{Kind: fault.Conflict, Message: "the record changed meanwhile", Err: secret},
		fmt.Errorf("move: %w", &fault.Error{Kind: fault.Invalid, Message: "invalid quantity: too many decimals", Fields: map[string]string{"quantity": "too many decimals"}, Err: secret}),
	}
	for _, err := range cases {
		msg := fault.PublicMessage(err)
		if msg == "" || strings.Contains(msg, "password_hash") || strings.Contains(msg, "/var/lib") {
			t.Errorf("PublicMessage(%v) = %q: leaks the cause", err, msg)
		}
	}
	if got := fault.PublicMessage(secret); got != "something went wrong on our side; it has been logged" {
		t.Errorf("internal message %q", got)
	}
	if got := fault.PublicMessage(cases[3]); got != "the record changed meanwhile" {
		t.Errorf("known kind message %q", got)
	}
}
