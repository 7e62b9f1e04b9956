package assets_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/plaintext"
	"github.com/stocktrail/stocktrail/internal/store"
	"github.com/stocktrail/stocktrail/internal/storetest"
)

// FuzzImportAssets feeds arbitrary CSV to the asset import on SQLite. The
// import is all or nothing: a refusal is a client fault (never Internal)
// and creates no asset; an accepted file creates exactly as many assets as
// it says.
func FuzzImportAssets(f *testing.F) {
	db := storetest.Open(f, store.SQLite)
	fx := storetest.NewFixture(f, db)
	if _, err := inventory.CreateLocation(fx.Ctx, db, inventory.LocationInput{Kind: inventory.Warehouse, Code: "WH1"}); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"tag,name\nLAP-1,Laptop\n",
		"\ufefftag,name,category,status,condition,assignee,location,notes\nLAP-2,Laptop,IT,in use,good,Ann,WH1,\"two\nlines\"\n",
		"tag,name\nA,a\nA,b\n",
		"tag,name,location\nB,b,NOWHERE\n",
		"tag,name,colour\nC,c,red\n",
		"name\nD\n",
		"tag,name\n",
		"",
		"tag,name\n\"unterminated,x\n",
		"tag,name,status\nE,e,exploded\n",
		"tag,name\nbad tag!,x\n",
		"tag,name\nF,\x00\n",
	} {
		f.Add([]byte(seed))
	}
	count := func(t *testing.T) int {
		var n int
		if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM assets WHERE workspace_id = $1`, fx.Workspace.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		before := count(t)
		n, err := assets.ImportAssets(fx.Ctx, db, bytes.NewReader(data))
		after := count(t)
		if err != nil {
			e, ok := fault.As(err)
			if !ok || e.Kind == fault.Internal || e.Message == "" {
				t.Fatalf("refusal %v is not a client fault", err)
			}
			if after != before {
				t.Fatalf("a refused import created %d assets", after-before)
			}
			return
		}
		if n <= 0 || after-before != n {
			t.Fatalf("import said %d, created %d", n, after-before)
		}
		rows, err := db.Read().QueryContext(context.Background(), `SELECT tag, name FROM assets WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2`, fx.Workspace.ID, n)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var tag, name string
			if err := rows.Scan(&tag, &name); err != nil {
				t.Fatal(err)
			}
			if plaintext.Line("tag", tag) != nil || plaintext.Line("name", name) != nil || tag == "" || name == "" {
				t.Fatalf("imported tag %q, name %q", tag, name)
			}
		}
	})
}
