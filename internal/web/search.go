package web

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
)

func (wb *Web) registerSearch(mux *http.ServeMux) {
	mux.HandleFunc("GET /search", wb.page(wb.searchPage))
	mux.HandleFunc("GET /search/suggest", wb.page(wb.searchSuggest))
}

// searchView is what the header's search found, area by area; an area the
// actor may not read is not asked.
type searchView struct {
	Query     string
	Items     []inventory.Item
	Locations []inventory.Location
	Assets    []assets.Asset
	Orders    []orders.Order
	// Searched says the query was long enough to search.
	Searched bool
}

// Found reports whether anything matched.
func (v searchView) Found() bool {
	return len(v.Items)+len(v.Locations)+len(v.Assets)+len(v.Orders) > 0
}

// maxSearchText bounds what is searched for: codes and names are short.
const maxSearchText = 100

// search asks each area the actor may read for up to limit matches.
func (wb *Web) search(r *http.Request, limit int) (searchView, error) {
	a, ok := actor.From(r.Context())
	if !ok {
		return searchView{}, fault.New(fault.Unauthorized, "log in first")
	}
	v := searchView{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if len(v.Query) > maxSearchText {
		return v, fault.Field("q", "Search for at most 100 characters")
	}
	if v.Query == "" {
		return v, nil
	}
	v.Searched = true
	ctx := r.Context()
	if a.Can(actor.ViewInventory) {
		found, err := inventory.Search(ctx, wb.cfg.DB, v.Query, limit)
		if err != nil {
			return v, err
		}
		v.Items, v.Locations = found.Items, found.Locations
	}
	if a.Can(actor.ViewAssets) {
		var err error
		if v.Assets, err = assets.Search(ctx, wb.cfg.DB, v.Query, limit); err != nil {
			return v, err
		}
	}
	if a.Can(actor.ViewOrders) {
		var err error
		if v.Orders, err = orders.Search(ctx, wb.cfg.DB, v.Query, limit); err != nil {
			return v, err
		}
	}
	return v, nil
}

// searchPage is the search without JavaScript: the header's form lands
// here with every match, up to 25 per kind.
func (wb *Web) searchPage(w http.ResponseWriter, r *http.Request) error {
	v, err := wb.search(r, 25)
	if err != nil && fault.KindOf(err) == fault.Internal {
		return err
	}
	return wb.show(w, r, "search.html", "Search", v, err)
}

// searchSuggest is the same search as a fragment of HTML (a few links per
// kind) that static/search.js shows under the box as one types.
func (wb *Web) searchSuggest(w http.ResponseWriter, r *http.Request) error {
	v, err := wb.search(r, 5)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	if err := wb.pages["search.html"].ExecuteTemplate(&body, "suggestions", v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(body.Bytes())
	return err
}
