package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/stocktrail/stocktrail/internal/fault"
)

// queryParams says, per route pattern ("GET /api/v1/items/{id}"), which
// query parameters its operation documents in the OpenAPI document. The
// document is the contract: a parameter it does not name is refused (400)
// instead of ignored, so a client that believes it filtered
// (GET /api/v1/inventory/stock?sku=X) is told it did not, and an endpoint
// added without documenting its parameters fails its own tests.
type queryParams struct {
	once   sync.Once
	err    error
	byPath map[string]map[string]bool
}

func (q *queryParams) load() {
	raw, err := OpenAPIDocument()
	if err != nil {
		q.err = err
		return
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]openAPIParameter `json:"parameters"`
		} `json:"components"`
	}
	if q.err = json.Unmarshal(raw, &doc); q.err != nil {
		return
	}
	resolve := func(p openAPIParameter) openAPIParameter {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
			return doc.Components.Parameters[name]
		}
		return p
	}
	q.byPath = map[string]map[string]bool{}
	for path, item := range doc.Paths {
		var shared []openAPIParameter
		if raw, ok := item["parameters"]; ok {
			if q.err = json.Unmarshal(raw, &shared); q.err != nil {
				return
			}
		}
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				Parameters []openAPIParameter `json:"parameters"`
			}
			if q.err = json.Unmarshal(raw, &op); q.err != nil {
				return
			}
			names := map[string]bool{}
			for _, p := range append(append([]openAPIParameter(nil), shared...), op.Parameters...) {
				if p = resolve(p); p.In == "query" {
					names[p.Name] = true
				}
			}
			q.byPath[strings.ToUpper(method)+" "+path] = names
		}
	}
}

type openAPIParameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

// check refuses the query parameters of r that pattern's operation does not
// document.
func (q *queryParams) check(pattern string, r *http.Request) error {
	q.once.Do(q.load)
	if q.err != nil {
		return fmt.Errorf("openapi document: %w", q.err)
	}
	allowed, ok := q.byPath[pattern]
	if !ok {
		if method, path, found := strings.Cut(pattern, " "); found && method == http.MethodGet {
			allowed, ok = q.byPath["GET "+path]
		}
	}
	if !ok {
		return fmt.Errorf("route %s is not in the OpenAPI document", pattern)
	}
	var unknown []string
	for name := range r.URL.Query() {
		if !allowed[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	fields := map[string]string{}
	for _, name := range unknown {
		fields[name] = "unknown query parameter"
	}
	known := make([]string, 0, len(allowed))
	for name := range allowed {
		known = append(known, name)
	}
	sort.Strings(known)
	hint := "this endpoint takes no query parameters"
	if len(known) > 0 {
		hint = "it takes " + strings.Join(known, ", ")
	}
	return &fault.Error{Kind: fault.Malformed, Fields: fields,
		Message: fmt.Sprintf("unknown query parameter %s; %s", strings.Join(unknown, ", "), hint)}
}
