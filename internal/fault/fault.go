// Package fault gives errors a kind (not found, invalid, conflict, forbidden,
// unauthorized, …) so that the domain can say what went wrong without knowing
// about HTTP, and the web and API layers can turn a kind into one status code
// and a message a user can act on.
package fault

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kind classifies an error for the people and programs that receive it.
type Kind int

const (
	// Internal is anything unexpected; its details are logged, never shown.
	Internal Kind = iota
	NotFound
	Invalid // the request is well-formed but its values break a rule (422)
	Malformed
	Conflict
	Forbidden
	Unauthorized
	TooLarge
	UnsupportedMedia
	TooManyRequests
	// Gone is something that existed and was deleted on purpose (an
	// activity event purged by retention): 410.
	Gone
	// Unavailable is a passing condition of the server's own (its database
	// does not answer, its disk is full): 503, with a Retry-After hint. The
	// request changed nothing and may be sent again as it is.
	Unavailable
)

// Error is an error with a kind, a message safe to show to the caller, and
// optional per-field messages for forms and problem+json bodies.
type Error struct {
	Kind    Kind
	Message string
	// Fields maps a field (or "row 12", "column B") to what is wrong with it.
	Fields map[string]string
	// RetryAfter is a hint in seconds for TooManyRequests and Unavailable.
	RetryAfter int
	// Err is the underlying cause; it is never shown to the caller.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "; %s: %s", k, e.Fields[k])
		}
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a message for the caller.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error that names one field.
func Field(field, message string) *Error {
	return &Error{Kind: Invalid, Message: "invalid " + field + ": " + message, Fields: map[string]string{field: message}}
}

// Fields collects per-field problems; Err returns nil when there are none.
type Fields map[string]string

// Add records a problem with a field; the first problem per field wins.
func (f Fields) Add(field, message string) {
	if _, ok := f[field]; !ok {
		f[field] = message
	}
}

// Err returns an Invalid error listing the fields, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	msg := "some values are not valid"
	if len(f) == 1 {
		for k, v := range f {
			msg = "invalid " + k + ": " + v
		}
	}
	return &Error{Kind: Invalid, Message: msg, Fields: map[string]string(f)}
}

// KindOf returns the kind of err, Internal when it has none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err has the given kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }

// As returns err's *Error, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Wrap adds context to *errp, keeping its kind; use with defer.
func Wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
	}
}

// HTTPStatus is the one table from kinds to HTTP status codes, used by both
// the JSON API and the web pages.
func HTTPStatus(kind Kind) int {
	switch kind {
	case NotFound:
		return 404
	case Invalid:
		return 422
	case Malformed:
		return 400
	case Conflict:
		return 409
	case Forbidden:
		return 403
	case Unauthorized:
		return 401
	case TooLarge:
		return 413
	case UnsupportedMedia:
		return 415
	case TooManyRequests:
		return 429
	case Gone:
		return 410
	case Unavailable:
		return 503
	default:
		return 500
	}
}

// PublicMessage is what may be shown to the caller: the message for known
// kinds, a generic sentence for internal errors (whose details may hold SQL
// or paths and are only logged).
func PublicMessage(err error) string {
	if e, ok := As(err); ok && e.Kind != Internal {
		return e.Message
	}
	return "something went wrong on our side; it has been logged"
}
