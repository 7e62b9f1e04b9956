package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

func (wb *Web) registerItemEdit(mux *http.ServeMux) {
	mux.HandleFunc("GET /inventory/items/{id}/edit", wb.page(wb.itemEditPage))
	mux.HandleFunc("POST /inventory/items/{id}/edit", wb.page(wb.editItem))
}

type itemEditView struct {
	Item   inventory.Item
	Kinds  []inventory.ItemKind
	Errors []fieldProblem
}

// itemEditOrder is the form's fields in order, for its error summary.
var itemEditOrder = []string{"sku", "name", "kind", "min_level"}

var itemEditLabels = map[string]string{"sku": "SKU", "name": "Name", "kind": "Kind", "min_level": "Minimum level"}

func (wb *Web) itemEditPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageCatalog); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	it, err := inventory.GetItem(r.Context(), wb.cfg.DB, id)
	if err != nil {
		return err
	}
	return wb.show(w, r, "itemedit.html", "Edit "+it.SKU, itemEditView{Item: it, Kinds: []inventory.ItemKind{inventory.Material, inventory.Part, inventory.Product}}, nil)
}

// editItem saves the item's SKU, name, kind and minimum level; the unit
// and decimals are fixed once stock is recorded, so they are not offered.
func (wb *Web) editItem(w http.ResponseWriter, r *http.Request) error {
	id, err := postedTo(w, r, actor.ManageCatalog)
	if err != nil {
		return err
	}
	sku, name, kind := r.PostFormValue("sku"), r.PostFormValue("name"), inventory.ItemKind(r.PostFormValue("kind"))
	change := inventory.ItemChange{SKU: &sku, Name: &name, Kind: &kind,
		MinLevel: inventory.OptionalDecimal{Set: true, Text: inventory.DecimalText(strings.TrimSpace(r.PostFormValue("min_level")))}}
	it, err := inventory.UpdateItem(r.Context(), wb.cfg.DB, id, change)
	if err != nil {
		if fault.KindOf(err) == fault.Internal || fault.KindOf(err) == fault.NotFound {
			return err
		}
		old, getErr := inventory.GetItem(r.Context(), wb.cfg.DB, id)
		if getErr != nil {
			return getErr
		}
		v := itemEditView{Item: old, Kinds: []inventory.ItemKind{inventory.Material, inventory.Part, inventory.Product}}
		if e, ok := fault.As(err); ok {
			v.Errors = errorSummary(e.Fields, itemEditOrder, itemEditLabels)
		}
		return wb.show(w, r, "itemedit.html", "Edit "+old.SKU, v, err)
	}
	return redirect(w, r, fmt.Sprintf("/inventory/items/%d", it.ID), "Item "+it.SKU+" saved")
}
