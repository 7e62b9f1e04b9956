package api

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
)

// The OpenAPI 3.1 description of every endpoint is written by hand next to
// the handlers, one fragment per area (openapi/NN-area.json, each with
// "paths" and "components.schemas"), so areas add endpoints without editing
// each other's files. A test fails when a registered route is missing.
//
//go:embed openapi/*.json
var openAPIFragments embed.FS

// OpenAPIDocument merges the fragments in file-name order into one document.
func OpenAPIDocument() ([]byte, error) {
	names, err := fs.Glob(openAPIFragments, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var doc map[string]any
	for _, name := range names {
		raw, err := openAPIFragments.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := json.Unmarshal(raw, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if doc == nil {
			doc = frag
			continue
		}
		if err := mergeInto(doc, frag, name); err != nil {
			return nil, err
		}
	}
	return json.MarshalIndent(doc, "", " ")
}

// mergeInto adds src's paths and component schemas to dst; a path or schema
// defined twice is an error, not a silent overwrite.
func mergeInto(dst, src map[string]any, name string) error {
	for _, section := range [][]string{{"paths"}, {"components", "schemas"}, {"components", "responses"}} {
		from := lookup(src, section)
		if from == nil {
			continue
		}
		to := lookup(dst, section)
		if to == nil {
			return fmt.Errorf("%s: base document lacks %v", name, section)
		}
		for k, v := range from {
			if _, dup := to[k]; dup {
				return fmt.Errorf("%s: %v %q defined twice", name, section, k)
			}
			to[k] = v
		}
	}
	return nil
}

func lookup(m map[string]any, keys []string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

func (a *API) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := OpenAPIDocument()
	if err != nil {
		WriteProblem(w, r, a.cfg.Logger, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(doc)
}
