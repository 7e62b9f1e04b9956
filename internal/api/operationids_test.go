package api_test

import (
	"encoding/json"
	"testing"

	"github.com/stocktrail/stocktrail/internal/api"
)

// TestEveryOperationHasAnID: client generators name their methods after
// operationId, so every operation has one, unique (scripts/openapi-ids.py
// derives one for a new operation). Redocly's lint in scripts/test.sh
// checks the rest of the description.
func TestEveryOperationHasAnID(t *testing.T) {
	raw, err := api.OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for path, item := range doc.Paths {
		for method, rawOp := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				OperationID string `json:"operationId"`
			}
			json.Unmarshal(rawOp, &op)
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId (run python3 scripts/openapi-ids.py)", where)
				continue
			}
			if other, dup := seen[op.OperationID]; dup {
				t.Errorf("operationId %s names both %s and %s", op.OperationID, other, where)
			}
			seen[op.OperationID] = where
		}
	}
}
