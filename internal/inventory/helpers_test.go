package inventory_test

import (
	"runtime"

	"github.com/stocktrail/stocktrail/internal/workspace"
)

func workspaceUpdate(w *world, allowNegative bool) (workspace.Workspace, error) {
	return workspace.Update(w.ctx, w.db, workspace.Change{AllowNegativeStock: &allowNegative})
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
