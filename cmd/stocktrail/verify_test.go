package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/retention"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

// TestVerifyCommand runs verify on a good SQLite database, a bundle of it,
// and the database again once a trigger is dropped and a row edited.
func TestVerifyCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := auth.New(db).Bootstrap(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	ws, _ := workspace.First(ctx, db.Read())
	sys := actor.With(ctx, actor.SystemActor(ws.ID, "test"))
	if _, err := inventory.CreateItem(sys, db, inventory.ItemInput{SKU: "A", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.CreateLocation(sys, db, inventory.LocationInput{Code: "WH1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Receive(sys, db, inventory.Receipt{ItemRef: inventory.ItemRef{SKU: "A"}, LocationRef: inventory.LocationRef{Location: "WH1"}, Quantity: "3"}); err != nil {
		t.Fatal(err)
	}
	key, err := ledger.LoadOrCreateKeyFile(filepath.Join(dir, "ledger.key"), "test")
	if err != nil {
		t.Fatal(err)
	}
	checkpoints := filepath.Join(dir, "checkpoints")
	sealer := &ledger.Sealer{DB: db, Key: key, CheckpointLog: checkpoints}
	if err := sealer.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sealer.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	var edited int64
	if err := db.Read().QueryRowContext(ctx, `SELECT MIN(id) FROM inventory_log`).Scan(&edited); err != nil {
		t.Fatal(err)
	}
	db.Close()

	verify := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"verify"}, args...), &out, &bytes.Buffer{})
		return out.String(), err
	}
	out, err := verify("--data", dir, "--key", key.Verifier, "--checkpoint", checkpoints)
	if err != nil || !strings.HasPrefix(lastLine(out), "OK: ledger verified") {
		t.Fatalf("good database: %v\n%s", err, out)
	}

	bundle := filepath.Join(dir, "ledger.bundle")
	var bout bytes.Buffer
	if err := run(ctx, []string{"ledger", "bundle", "--out", bundle, "--data", dir}, &bout, &bout); err != nil {
		t.Fatalf("bundle: %v %s", err, bout.String())
	}
	if out, err := verify("--bundle", bundle, "--key", key.Verifier); err != nil || !strings.Contains(lastLine(out), "complete") {
		t.Fatalf("bundle: %v\n%s", err, out)
	}
	if _, err := verify("--bundle", bundle); err == nil {
		t.Fatal("a bundle verified without a key")
	}
	if err := run(ctx, []string{"ledger", "bundle", "--out", bundle, "--log", "users", "--data", dir}, &bout, &bout); err == nil {
		t.Fatal("unknown log accepted")
	}

	db, err = store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER inventory_log_no_update`, fmt.Sprintf(`UPDATE inventory_log SET actor_name = 'framed' WHERE id = %d`, edited)} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out, err = verify("--data", dir, "--key", key.Verifier)
	if err == nil || !strings.HasPrefix(err.Error(), "FAILED: 2 problems") {
		t.Fatalf("tampered database: %v\n%s", err, out)
	}
	if !strings.Contains(out, "trigger inventory_log_no_update is missing") || !strings.Contains(out, fmt.Sprintf("inventory_log entry %d (seq ", edited)) {
		t.Fatalf("problems not named:\n%s", out)
	}
}

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// TestVerifyCommandReportsPurged: after the retention purge, verify passes
// and its last line says what was purged.
func TestVerifyCommandReportsPurged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := runCLI(t, "workspace", "create", "--name", "Shop", "--plan", "starter", "--admin-email", "a@example.com", "--data", dir); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sys := actor.With(ctx, actor.SystemActor(1, "test"))
	for _, age := range []time.Duration{40, 35, 2} {
		if err := activity.RecordNow(sys, db, activity.Event{Action: activity.Update, Category: activity.Inventory, EntityType: "items",
			OccurredAt: time.Now().Add(-age * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	key, err := ledger.LoadOrCreateKeyFile(filepath.Join(dir, "ledger.key"), "test")
	if err != nil {
		t.Fatal(err)
	}
	sealer := &ledger.Sealer{DB: db, Key: key}
	if err := sealer.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sealer.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := retention.Purge(ctx, db, time.Now(), retention.Options{}); err != nil || res.Events != 2 {
		t.Fatalf("purge: %+v %v", res, err)
	}
	if _, err := sealer.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var out bytes.Buffer
	if err := run(ctx, []string{"verify", "--data", dir, "--key", key.Verifier}, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	if last := lastLine(out.String()); !strings.HasPrefix(last, "OK: ledger verified") || !strings.Contains(last, "workspace 1: 2 entries purged by retention up to sequence ") {
		t.Fatalf("verify's last line: %s", last)
	}
}
