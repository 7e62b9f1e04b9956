package web

import (
	"net/http"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/inventory"
)

func (wb *Web) registerLocations(mux *http.ServeMux) {
	mux.HandleFunc("GET /inventory/locations", wb.page(wb.locationList))
	mux.HandleFunc("GET /inventory/locations/{id}", wb.page(wb.locationPage))
}

// locationRow is a location with its depth, for an indented tree.
type locationRow struct {
	inventory.Location
	Depth int
}

// locationsView is the Locations tab: the tree, and the form that adds to
// it for those who may.
type locationsView struct {
	Rows []locationRow
	// Parents are the locations a new one may sit inside (not archived).
	Parents []inventory.Location
}

func (wb *Web) locationList(w http.ResponseWriter, r *http.Request) error {
	return wb.showLocations(w, r, nil)
}

// showLocations renders the Locations tab; formErr is a refused new
// location, shown in the summary and next to its field with what was typed.
func (wb *Web) showLocations(w http.ResponseWriter, r *http.Request, formErr error) error {
	_, err := actor.Require(r.Context(), actor.ViewInventory)
	if err != nil {
		return err
	}
	all, err := inventory.ListLocations(r.Context(), wb.cfg.DB, true)
	if err != nil {
		return err
	}
	v := locationsView{Rows: make([]locationRow, len(all))}
	for i, l := range all {
		v.Rows[i] = locationRow{Location: l, Depth: strings.Count(l.Path, "/")}
		if l.ArchivedAt == nil {
			v.Parents = append(v.Parents, l)
		}
	}
	return wb.show(w, r, "locations.html", "Locations", v, formErr)
}

type locationView struct {
	Location inventory.Location
	Parent   *inventory.Location
	Children []inventory.Location
	Records  []inventory.Record
	History  []activity.Readable
}

// locationPage shows one location: where it sits, what is under it, the
// stock kept there, and its history.
func (wb *Web) locationPage(w http.ResponseWriter, r *http.Request) error {
	a, err := actor.Require(r.Context(), actor.ViewInventory)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx, q := r.Context(), wb.cfg.DB
	var v locationView
	if v.Location, err = inventory.GetLocation(ctx, q, id); err != nil {
		return err
	}
	if v.Location.ParentID != 0 {
		parent, err := inventory.GetLocation(ctx, q, v.Location.ParentID)
		if err != nil {
			return err
		}
		v.Parent = &parent
	}
	all, err := inventory.ListLocations(ctx, q, false)
	if err != nil {
		return err
	}
	for _, l := range all {
		if l.ParentID == id {
			v.Children = append(v.Children, l)
		}
	}
	if v.Records, err = inventory.ListRecords(ctx, q, inventory.RecordFilter{LocationID: id}); err != nil {
		return err
	}
	if a.Can(actor.ViewActivity) {
		if v.History, err = activity.History(ctx, wb.cfg.DB, "locations", itoa64(id), 50); err != nil {
			return err
		}
	}
	return wb.show(w, r, "location.html", v.Location.Path, v, nil)
}
