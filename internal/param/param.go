// Package param reads the values of a request's query string the one way
// the JSON API and the pages share: a value that is not what its parameter
// takes is a Malformed error (400) naming the parameter, never a silent
// zero that would show something other than what was asked for.
package param

import (
	"net/url"
	"strconv"

	"github.com/stocktrail/stocktrail/internal/fault"
)

// Int reads an optional non-negative whole number: 0 when the parameter is
// absent or empty.
func Int(q url.Values, name string) (int64, error) {
	raw := q.Get(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		const rule = "must be a non-negative whole number"
		return 0, &fault.Error{Kind: fault.Malformed, Message: name + " " + rule, Fields: map[string]string{name: rule}}
	}
	return n, nil
}
