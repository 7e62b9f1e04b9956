package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func (wb *Web) registerSettings(mux *http.ServeMux) {
	mux.HandleFunc("GET /settings", wb.page(wb.settings))
	mux.HandleFunc("POST /settings", wb.page(wb.saveSettings))
}

type settingsPage struct {
	Workspace workspace.Workspace
	// InventoryLogRetention is shown beside the activity retention.
	InventoryLogRetention string
	Weekdays              []string
	History               []activity.Readable
	// TimeZones are the choices of the time zone select; ZoneListed says
	// the workspace's zone is among them (an old alias may not be).
	TimeZones  []workspace.TimeZoneGroup
	ZoneListed bool
}

func (wb *Web) settings(w http.ResponseWriter, r *http.Request) error {
	return wb.showSettings(w, r, nil)
}

func (wb *Web) showSettings(w http.ResponseWriter, r *http.Request, formErr error) error {
	a, err := actor.Require(r.Context(), actor.ViewSettings)
	if err != nil {
		return err
	}
	ws, err := workspace.Get(r.Context(), wb.cfg.DB)
	if err != nil {
		return err
	}
	page := settingsPage{Workspace: ws, InventoryLogRetention: workspace.InventoryLogRetention, Weekdays: workspace.Weekdays,
		TimeZones: workspace.TimeZones()}
	for _, g := range page.TimeZones {
		page.ZoneListed = page.ZoneListed || slices.Contains(g.Zones, ws.Settings.TimeZone)
	}
	if a.Can(actor.ViewActivity) {
		if page.History, err = activity.History(r.Context(), wb.cfg.DB, "workspaces", itoa64(ws.ID), 50); err != nil {
			return err
		}
	}
	return wb.show(w, r, "settings.html", "Workspace settings", page, formErr)
}

func (wb *Web) saveSettings(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageSettings); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	name, tz, start, end := f.Get("name"), f.Get("time_zone"), f.Get("business_hours_start"), f.Get("business_hours_end")
	negative, lost := f.Get("allow_negative_stock") == "on", f.Get("mark_unscanned_lost") == "on"
	days := f["business_days"]
	if days == nil {
		days = []string{}
	}
	change := workspace.Change{Name: &name, TimeZone: &tz,
		AllowNegativeStock: &negative, MarkUnscannedLost: &lost, BusinessHoursStart: &start, BusinessHoursEnd: &end,
		BusinessDays: &days}
	// Only an Enterprise workspace shows the field; a number that is not one
	// is named like any other bad value.
	if v, ok := f["activity_retention_days"]; ok {
		days, err := strconv.Atoi(strings.TrimSpace(v[0]))
		if err != nil {
			return wb.showSettings(w, r, fault.Field("activity_retention_days", "enter a whole number of days, e.g. 400"))
		}
		change.ActivityRetentionDays = &days
	}
	// Read as a whole number here; its range is the workspace's rule.
	if v, ok := f["over_receipt_percent"]; ok {
		raw := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v[0]), "%"))
		if raw == "" {
			raw = "0"
		}
		percent, err := strconv.Atoi(raw)
		if err != nil {
			return wb.showSettings(w, r, fault.Field("over_receipt_percent",
				fmt.Sprintf("enter a whole percentage from 0 to %d, e.g. 10", workspace.MaxOverReceiptPercent)))
		}
		change.OverReceiptPercent = &percent
	}
	_, err := workspace.Update(r.Context(), wb.cfg.DB, change)
	if err != nil {
		if fault.KindOf(err) == fault.Internal {
			return err
		}
		return wb.showSettings(w, r, err)
	}
	return redirect(w, r, "/settings", "Settings saved")
}
