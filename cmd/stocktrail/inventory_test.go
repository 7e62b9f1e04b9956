package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/ledgertest"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func TestInventoryImportExportCommands(t *testing.T) {
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
	db.Close()

	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("sku,location,quantity\nA,WH1,1\nB,WH1,1\n"), 0o600)
	var out bytes.Buffer
	err = run(ctx, []string{"inventory", "import", bad, "--data", dir}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "row 3") {
		t.Fatalf("bad import: %v", err)
	}
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("sku,location,quantity\nA,WH1,4\n"), 0o600)
	if err := run(ctx, []string{"inventory", "import", good, "--data", dir, "--reason", "count"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	// What is there so far sealed into the ledger; a second import not.
	db, err = store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ledgertest.SealAll(t, ledgertest.NewSealer(t, db))
	db.Close()
	again := filepath.Join(dir, "again.csv")
	os.WriteFile(again, []byte("sku,location,quantity\nA,WH1,6\n"), 0o600)
	if err := run(ctx, []string{"inventory", "import", again, "--data", dir}, &out, &out); err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "log.csv")
	if err := run(ctx, []string{"inventory", "export", "--data", dir, "--out", csvPath, "--sku", "A"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(csvPath)
	if !strings.HasPrefix(string(b), "SKU,Quantity,Unit,Action type,User,Station,Timestamp") || !strings.Contains(string(b), "import good.csv") {
		t.Fatalf("export: %s", b)
	}
	// The last column is each entry's ledger sequence, empty for the
	// second import's entry.
	records, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(records) != 4 {
		t.Fatalf("export (%v): %s", err, b)
	}
	header := records[0]
	seqCol, entryCol := len(header)-1, slices.Index(header, "Entry")
	if header[seqCol] != "Ledger sequence" || entryCol < 0 {
		t.Fatalf("export columns: %q", header)
	}
	db, err = store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []int64
	for _, r := range records[1:] {
		id, _ := strconv.ParseInt(r[entryCol], 10, 64)
		ids = append(ids, id)
	}
	seqs, err := ledger.Sequences(sys, db, ledger.InventoryLog, ids)
	if err != nil || len(seqs) != 2 {
		t.Fatalf("sequences %v: %v", seqs, err)
	}
	for i, r := range records[1:] {
		want := ""
		if seq, ok := seqs[ids[i]]; ok {
			want = strconv.FormatInt(seq, 10)
		}
		if r[seqCol] != want {
			t.Errorf("entry %d: ledger sequence %q, want %q", ids[i], r[seqCol], want)
		}
	}
	if err := run(ctx, []string{"inventory", "export", "--data", dir, "--out", filepath.Join(dir, "x.pdf")}, &out, &out); err == nil {
		t.Fatal("pdf export accepted")
	}
}
