package web

import (
	"net/http"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/alerts"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/orders"
)

// homeView is the first page after login: what needs attention, each
// section only for the roles that may read it (nil when not shown).
type homeView struct {
	Shortages     []inventory.Shortage
	ShortageCount int
	ShowStock     bool
	Sessions      []assets.Session
	ShowSessions  bool
	Movements     []homeMovement
	Alerts        []alertRow
	OpenAlerts    int
	ShowAlerts    bool
	// OrderGroups are the open orders waiting for someone, by what they
	// wait for.
	OrderGroups []orderGroup
	ShowOrders  bool
	TimeZone    string
}

type homeMovement struct {
	inventory.Entry
	When string
}

type orderGroup struct {
	Title, Empty, Href string
	Orders             []homeOrder
	More               bool
}

type homeOrder struct {
	orders.Order
	Created string
}

// homeSectionSize is how many rows each section shows before linking on.
const homeSectionSize = 5

func (wb *Web) home(w http.ResponseWriter, r *http.Request) error {
	a, ok := actor.From(r.Context())
	if !ok {
		return fault.New(fault.Unauthorized, "log in first")
	}
	ctx := r.Context()
	zone := wb.zone(r, a)
	v := homeView{TimeZone: zone.String()}
	var err error
	if a.Can(actor.ViewInventory) {
		v.ShowStock = true
		if v.Shortages, v.ShortageCount, err = inventory.BelowMinimum(ctx, wb.cfg.DB, homeSectionSize*2); err != nil {
			return err
		}
		page, err := inventory.ListLog(ctx, wb.cfg.DB, inventory.LogFilter{Limit: 30})
		if err != nil {
			return err
		}
		for _, e := range page.Entries {
			// A record's creation (0 pcs) belongs to the movement that
			// made it; the movement says enough.
			if e.Action == inventory.CreateRecordAction && e.Change == 0 {
				continue
			}
			v.Movements = append(v.Movements, homeMovement{Entry: e, When: e.RecordedAt.In(zone).Format("2006-01-02 15:04")})
			if len(v.Movements) == homeSectionSize*2 {
				break
			}
		}
	}
	if a.Can(actor.ViewAssets) {
		v.ShowSessions = true
		if v.Sessions, err = assets.ListSessions(ctx, wb.cfg.DB, assets.SessionFilter{Status: assets.InProgress, Limit: homeSectionSize}); err != nil {
			return err
		}
	}
	if a.Can(actor.ViewAlerts) {
		v.ShowAlerts = true
		if v.OpenAlerts, err = alerts.CountOpen(ctx, wb.cfg.DB); err != nil {
			return err
		}
		open, err := alerts.ListAlerts(ctx, wb.cfg.DB, alerts.AlertFilter{Status: alerts.Open, Limit: homeSectionSize})
		if err != nil {
			return err
		}
		for _, al := range open {
			v.Alerts = append(v.Alerts, alertRow{Alert: al, First: localTime(al.FirstAt, zone), Last: localTime(al.LastAt, zone)})
		}
	}
	if a.Can(actor.ViewOrders) {
		v.ShowOrders = true
		groups := []struct {
			title, empty string
			kind         orders.Kind
			statuses     []orders.Status
		}{
			{"To allocate", "No confirmed sales orders wait for stock.", orders.Outbound, []orders.Status{orders.Confirmed, orders.PartiallyAllocated}},
			{"To ship", "No allocated sales orders wait to ship.", orders.Outbound, []orders.Status{orders.Allocated, orders.Picked}},
			{"To receive", "No purchase orders wait to be received.", orders.Inbound, []orders.Status{orders.Confirmed, orders.PartiallyReceived}},
		}
		for _, g := range groups {
			og := orderGroup{Title: g.title, Empty: g.empty, Href: "/orders?kind=" + string(g.kind)}
			for _, st := range g.statuses {
				page, err := orders.List(ctx, wb.cfg.DB, orders.Filter{Kind: g.kind, Status: st, Limit: homeSectionSize})
				if err != nil {
					return err
				}
				for _, o := range page.Orders {
					og.Orders = append(og.Orders, homeOrder{Order: o, Created: localTime(o.CreatedAt, zone)})
				}
				og.More = og.More || page.Next != 0
			}
			if len(og.Orders) > homeSectionSize {
				og.Orders, og.More = og.Orders[:homeSectionSize], true
			}
			v.OrderGroups = append(v.OrderGroups, og)
		}
	}
	return wb.show(w, r, "home.html", "Home", v, nil)
}
