// Package generatedclient_test holds the contract test of the OpenAPI
// description: a Go client generated from it by oapi-codegen compiles, passes
// vet and talks to a real server (issue 14). Nothing here is shipped; the
// generated code lives in a temporary folder for the length of the test.
package generatedclient_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
	"golang.org/x/mod/modfile"

	// The generated client imports these two; importing them here keeps
	// their version pinned in go.mod and go.sum (and in the module cache),
	// so the client compiles against exactly that runtime.
	_ "github.com/oapi-codegen/runtime"
	_ "github.com/oapi-codegen/runtime/types"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/api"
	"github.com/stocktrail/stocktrail/internal/pgtest"
	"github.com/stocktrail/stocktrail/internal/server"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestGeneratedClientCompilesAndCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, vets and compiles a client of about a megabyte")
	}
	code := generateClient(t)
	calls := buildCalls(t, code)

	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		f := storetest.NewFixture(t, db)
		srv := httptest.NewServer(server.New(server.Config{DB: db, Auth: f.Auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
		t.Cleanup(srv.Close)
		key, err := f.Auth.CreateAPIKey(f.Ctx, "generated client", actor.Admin)
		if err != nil {
			t.Fatal(err)
		}

		const sku = "GEN-BOLT-1"
		cmd := exec.Command(calls)
		cmd.Env = append(os.Environ(), "STOCKTRAIL_URL="+srv.URL, "STOCKTRAIL_TOKEN="+key.Secret, "STOCKTRAIL_SKU="+sku)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("the generated client's calls failed: %v\n%s", err, stderr.String())
		}
		var seen struct {
			ItemID            int      `json:"item_id"`
			ReceiptQuantities []string `json:"receipt_quantities"`
			ListedSKUs        []string `json:"listed_skus"`
			AuditLogID        int      `json:"audit_log_id"`
			ReplayedID        int      `json:"replayed_id"`
			Replayed          string   `json:"replayed"`
			ReadBackTable     string   `json:"read_back_table"`
			RefusedStatus     int      `json:"refused_status"`
			RefusedFields     []string `json:"refused_fields"`
		}
		if err := json.Unmarshal(out, &seen); err != nil {
			t.Fatalf("calls printed %q: %v", out, err)
		}

		// The two receipts (a decimal as a string, then as a number) landed in
		// one record: 12.5 kg, then 12.75 kg.
		if want := []string{"12.5", "12.75"}; !slices.Equal(seen.ReceiptQuantities, want) {
			t.Errorf("receipt answers gave quantities %v, want %v", seen.ReceiptQuantities, want)
		}
		if seen.RefusedStatus != 422 || !slices.Equal(seen.RefusedFields, []string{"quantity"}) {
			t.Errorf("a receipt of 1e3 was answered %d with field errors %v, want 422 naming quantity", seen.RefusedStatus, seen.RefusedFields)
		}
		var level int64
		if err := db.Read().QueryRowContext(context.Background(),
			`SELECT quantity FROM stock_levels WHERE workspace_id = $1 AND item_id = $2`, f.Workspace.ID, seen.ItemID).Scan(&level); err != nil {
			t.Fatal(err)
		}
		if level != 12_750_000 { // micro-units
			t.Errorf("stock level %d micro-units, want 12.75 kg", level)
		}
		if !slices.Equal(seen.ListedSKUs, []string{sku}) {
			t.Errorf("listing items by %q gave %v", sku, seen.ListedSKUs)
		}

		// The keyed audit-log entry was logged once; the second post with the
		// same key was the first answer replayed.
		if seen.AuditLogID == 0 || seen.ReplayedID != seen.AuditLogID || seen.Replayed != "true" {
			t.Errorf("audit log id %d, replayed id %d, Idempotent-Replayed %q", seen.AuditLogID, seen.ReplayedID, seen.Replayed)
		}
		if seen.ReadBackTable != "erp_items" {
			t.Errorf("audit log read back with table %q", seen.ReadBackTable)
		}
		var logged int
		if err := db.Read().QueryRowContext(context.Background(),
			`SELECT count(*) FROM activity_events WHERE workspace_id = $1 AND entity_type = 'erp_items'`, f.Workspace.ID).Scan(&logged); err != nil {
			t.Fatal(err)
		}
		if logged != 1 {
			t.Errorf("%d audit-log entries for erp_items, want 1", logged)
		}
	})
}

// generateClient runs oapi-codegen (as a library, at the version go.mod
// pins) on the description `stocktrail openapi` serves and returns the
// client's source. A description the generator cannot read fails here.
func generateClient(t *testing.T) string {
	t.Helper()
	doc, err := api.OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(doc)
	if err != nil {
		t.Fatalf("kin-openapi (oapi-codegen's loader) cannot load the description: %v", err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		t.Fatalf("kin-openapi (oapi-codegen's loader) finds the description invalid: %v", err)
	}
	code, err := codegen.Generate(spec, codegen.Configuration{
		PackageName: "stocktrailclient",
		Generate:    codegen.GenerateOptions{Client: true, Models: true},
	})
	if err != nil {
		t.Fatalf("oapi-codegen cannot generate a client from the description: %v", err)
	}
	return code
}

// buildCalls lays out a throwaway module holding the client and the calls
// program, which requires this module (replaced by its folder) so that the
// oapi-codegen runtime is the version go.mod pins; vets both packages and
// compiles the program, and returns the program's path.
func buildCalls(t *testing.T, code string) string {
	t.Helper()
	root := moduleRoot(t)
	tmp := t.TempDir()
	ours, err := modfile.ParseLax("go.mod", mustRead(t, filepath.Join(root, "go.mod")), nil)
	if err != nil {
		t.Fatal(err)
	}
	goMod := "module generatedclient\n\ngo " + ours.Go.Version + "\n\n" +
		"require github.com/stocktrail/stocktrail v0.0.0\n\nreplace github.com/stocktrail/stocktrail => " + root + "\n"
	for name, content := range map[string][]byte{
		"go.mod":                         []byte(goMod),
		"go.sum":                         mustRead(t, filepath.Join(root, "go.sum")),
		"stocktrailclient/client.gen.go": []byte(code),
		"calls/main.go":                  mustRead(t, filepath.Join("testdata", "calls", "main.go")),
	} {
		path := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	program := filepath.Join(tmp, "calls.bin")
	goCmd(t, tmp, "vet", "./...")
	goCmd(t, tmp, "build", "-o", program, "./calls")
	return program
}

// goCmd runs the go command in the throwaway module. Versions come from this
// module's go.mod through the requirement (-mod=mod lets the throwaway go.mod
// take them over) and are checked against this module's go.sum.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOTOOLCHAIN=local", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
