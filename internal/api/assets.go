package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/assets"
	"github.com/stocktrail/stocktrail/internal/download"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/qrlabel"
	"github.com/stocktrail/stocktrail/internal/store"
)

func (a *API) registerAssets(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v1/assets", a.listAssets)
	a.handle(mux, "POST /api/v1/assets", fromBody(a.cfg.DB, actor.ManageAssets, http.StatusCreated, assets.CreateAsset))
	a.handle(mux, "POST /api/v1/assets/import", a.importAssets)
	a.handle(mux, "GET /api/v1/assets/labels.pdf", a.assetLabelSheet)
	a.handle(mux, "GET /api/v1/assets/{id}", byID(a.cfg.DB, http.StatusOK, assets.GetAsset))
	a.handle(mux, "PATCH /api/v1/assets/{id}", byIDFromBody(a.cfg.DB, actor.ManageAssets, http.StatusOK, assets.UpdateAsset))
	a.handle(mux, "DELETE /api/v1/assets/{id}", a.deleteAsset)
	a.handle(mux, "POST /api/v1/assets/{id}/restore", byIDFromBody(a.cfg.DB, actor.ManageAssets, http.StatusOK, assets.RestoreAsset))
	a.handle(mux, "POST /api/v1/assets/{id}/retire", byIDFromBody(a.cfg.DB, actor.ManageAssets, http.StatusOK, assets.RetireAsset))
	a.handle(mux, "POST /api/v1/assets/{id}/reinstate", byIDFromBody(a.cfg.DB, actor.ManageAssets, http.StatusOK, assets.ReinstateAsset))
	a.handle(mux, "POST /api/v1/assets/{id}/disposal", byIDFromBody(a.cfg.DB, actor.ManageAssets, http.StatusOK, assets.DisposeAsset))
	a.handle(mux, "GET /api/v1/assets/{id}/history", byID(a.cfg.DB, http.StatusOK, assets.GetAssetHistory))
	a.handle(mux, "GET /api/v1/assets/{id}/label.png", a.assetLabel)
	a.handle(mux, "GET /api/v1/assets/{id}/label.svg", a.assetLabel)
	a.handle(mux, "GET /api/v1/assets/{id}/photos", a.listAssetPhotos)
	a.handle(mux, "POST /api/v1/assets/{id}/photos", a.addAssetPhoto)
	a.handle(mux, "GET /api/v1/asset-photos/{id}", a.assetPhoto)

	a.handle(mux, "GET /api/v1/inventory-sessions", a.listSessions)
	a.handle(mux, "POST /api/v1/inventory-sessions", fromBody(a.cfg.DB, actor.ManageSessions, http.StatusCreated, assets.CreateSession))
	a.handle(mux, "GET /api/v1/inventory-sessions/{id}", byID(a.cfg.DB, http.StatusOK, assets.GetSession))
	a.handle(mux, "GET /api/v1/inventory-sessions/{id}/progress", a.sessionProgress)
	a.handle(mux, "GET /api/v1/inventory-sessions/{id}/items", a.sessionItems)
	a.handle(mux, "POST /api/v1/inventory-sessions/{id}/start", byID(a.cfg.DB, http.StatusOK, assets.StartSession))
	a.handle(mux, "POST /api/v1/inventory-sessions/{id}/scans", a.scan)
	a.handle(mux, "POST /api/v1/inventory-sessions/{id}/include", a.includeAsset)
	a.handle(mux, "POST /api/v1/inventory-sessions/{id}/exclude", a.excludeAsset)
	a.handle(mux, "POST /api/v1/inventory-sessions/{id}/items/{asset}/stage", a.stage)
	a.handle(mux, "POST /api/v1/inventory-sessions/{id}/items/{asset}/photos", a.stagePhoto)
	a.handle(mux, "POST /api/v1/inventory-sessions/{id}/finish", byID(a.cfg.DB, http.StatusOK, assets.FinishSession))
	a.handle(mux, "POST /api/v1/inventory-sessions/{id}/cancel", byID(a.cfg.DB, http.StatusOK, assets.CancelSession))
	a.handle(mux, "GET /api/v1/inventory-sessions/{id}/report", byID(a.cfg.DB, http.StatusOK, assets.GetSessionReport))
	a.handle(mux, "GET /api/v1/inventory-sessions/{id}/report.csv", a.sessionReportCSV)

	a.handle(mux, "GET /api/v1/inventory-schedules", a.listSchedules)
	a.handle(mux, "POST /api/v1/inventory-schedules", fromBody(a.cfg.DB, actor.ManageSessions, http.StatusCreated, assets.CreateSchedule))
	a.handle(mux, "GET /api/v1/inventory-schedules/{id}", byID(a.cfg.DB, http.StatusOK, assets.GetSchedule))
	a.handle(mux, "PUT /api/v1/inventory-schedules/{id}", byIDFromBody(a.cfg.DB, actor.ManageSessions, http.StatusOK, assets.UpdateSchedule))
	a.handle(mux, "PATCH /api/v1/inventory-schedules/{id}", a.updateSchedule)
	a.handle(mux, "DELETE /api/v1/inventory-schedules/{id}", a.deleteSchedule)
}

func assetFilter(r *http.Request) (assets.AssetFilter, error) {
	q := r.URL.Query()
	f := assets.AssetFilter{Search: q.Get("q"), Status: assets.Status(q.Get("status")), Condition: assets.Condition(q.Get("condition")),
		Category: q.Get("category"), Show: q.Get("show")}
	var err error
	var limit, offset int64
	if f.LocationID, err = queryInt(r, "location_id"); err != nil {
		return f, err
	}
	if limit, err = queryInt(r, "limit"); err != nil {
		return f, err
	}
	if offset, err = queryInt(r, "offset"); err != nil {
		return f, err
	}
	f.Limit, f.Offset = int(limit), int(offset)
	return f, nil
}

func (a *API) listAssets(w http.ResponseWriter, r *http.Request) error {
	f, err := assetFilter(r)
	if err != nil {
		return err
	}
	list, total, err := assets.ListAssets(r.Context(), a.cfg.DB, f)
	if err != nil {
		return err
	}
	if list == nil {
		list = []assets.Asset{}
	}
	return WriteJSON(w, http.StatusOK, map[string]any{"count": len(list), "total": total, "data": list})
}

// maxImportBytes caps a CSV import body.
const maxImportBytes = 10 << 20

func (a *API) importAssets(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAssets); err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		return fault.New(fault.UnsupportedMedia, "send the file as Content-Type: text/csv")
	}
	body, err := readLimited(w, r, maxImportBytes)
	if err != nil {
		return err
	}
	n, err := assets.ImportAssets(r.Context(), a.cfg.DB, bytes.NewReader(body))
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, map[string]any{"imported": n})
}

func readLimited(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fault.New(fault.TooLarge, "the body is larger than %d MB", limit>>20)
	}
	if err != nil {
		return nil, fault.New(fault.Malformed, "could not read the request body")
	}
	return body, nil
}

func (a *API) assetLabel(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	who, _ := actor.From(r.Context())
	asset, err := assets.GetAsset(r.Context(), a.cfg.DB, id)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if strings.HasSuffix(r.URL.Path, ".svg") {
		err = qrlabel.SVG(&buf, asset.Label(who.WorkspaceID))
		w.Header().Set("Content-Type", "image/svg+xml")
	} else {
		size, qerr := queryInt(r, "size")
		if qerr != nil {
			return qerr
		}
		if size == 0 {
			size = 300
		}
		if size < 120 || size > 2000 {
			return fault.Field("size", "120 to 2000 pixels")
		}
		err = qrlabel.PNG(&buf, asset.Label(who.WorkspaceID), int(size))
		w.Header().Set("Content-Type", "image/png")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

func (a *API) assetLabelSheet(w http.ResponseWriter, r *http.Request) error {
	who, err := actor.Require(r.Context(), actor.ViewAssets)
	if err != nil {
		return err
	}
	paperName := r.URL.Query().Get("paper")
	if paperName == "" {
		paperName = "avery-l7160"
	}
	paper, ok := qrlabel.PaperByName(paperName)
	if !ok {
		return fault.Field("paper", "one of "+strings.Join(qrlabel.PaperNames(), ", "))
	}
	var ids []int64
	for _, raw := range r.URL.Query()["id"] {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return fault.Field("id", "asset ids are positive whole numbers")
		}
		ids = append(ids, id)
	}
	f, err := assetFilter(r)
	if err != nil {
		return err
	}
	labels, err := assets.ListLabels(r.Context(), a.cfg.DB, ids, f)
	if err != nil {
		return err
	}
	// Written to the response page by page: a sheet of thousands of labels
	// never sits whole in memory.
	return download.Stream(w, r, a.cfg.Logger, download.File{Name: fmt.Sprintf("labels-%d-%s.pdf", who.WorkspaceID, paper.Name), ContentType: "application/pdf"},
		func(out io.Writer) error { return qrlabel.Sheet(out, labels, paper) })
}

func (a *API) listAssetPhotos(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	list, err := assets.ListAssetPhotos(r.Context(), a.cfg.DB, id)
	if err != nil {
		return err
	}
	if list == nil {
		list = []assets.Photo{}
	}
	return WriteJSON(w, http.StatusOK, map[string]any{"count": len(list), "data": list})
}

// readPhoto reads a raw image body; the content type is decided from the
// bytes by the domain, not from the header.
func readPhoto(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readLimited(w, r, assets.MaxPhotoBytes+1)
}

func (a *API) addAssetPhoto(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := actor.Require(r.Context(), actor.ManageAssets); err != nil {
		return err
	}
	data, err := readPhoto(w, r)
	if err != nil {
		return err
	}
	p, err := assets.AddAssetPhoto(r.Context(), a.cfg.DB, id, data)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, p)
}

func (a *API) assetPhoto(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	data, ct, err := assets.GetPhotoData(r.Context(), a.cfg.DB, id)
	if err != nil {
		return err
	}
	ServePhoto(w, data, ct, id)
	return nil
}

// ServePhoto answers a stored photo with its checked image type only, never
// sniffed, and a policy that keeps it inert even if opened directly.
func ServePhoto(w http.ResponseWriter, data []byte, contentType string, id int64) {
	switch contentType {
	case "image/jpeg", "image/png", "image/webp":
	default:
		contentType = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="photo-%d"`, id))
	h.Set("Cache-Control", "private, max-age=3600")
	w.Write(data)
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) error {
	loc, err := queryInt(r, "location_id")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, err := assets.ListSessions(r.Context(), a.cfg.DB, assets.SessionFilter{Search: q.Get("q"), Status: assets.SessionStatus(q.Get("status")), LocationID: loc})
	if err != nil {
		return err
	}
	if list == nil {
		list = []assets.Session{}
	}
	return WriteJSON(w, http.StatusOK, map[string]any{"count": len(list), "data": list})
}

func (a *API) sessionProgress(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	s, err := assets.GetSession(r.Context(), a.cfg.DB, id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, map[string]any{"status": s.Status, "progress": s.Progress})
}

func (a *API) sessionItems(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := assets.GetSession(r.Context(), a.cfg.DB, id); err != nil {
		return err
	}
	q := r.URL.Query()
	if !q.Has("limit") && !q.Has("after") && !q.Has("state") && !q.Has("q") {
		// Without paging parameters: the whole list, as before paging existed.
		items, err := assets.ListSessionItems(r.Context(), a.cfg.DB, id)
		if err != nil {
			return err
		}
		if items == nil {
			items = []assets.Item{}
		}
		return WriteJSON(w, http.StatusOK, map[string]any{"count": len(items), "data": items})
	}
	iq := assets.ItemQuery{State: q.Get("state"), Search: q.Get("q")}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	if iq.After, err = queryInt(r, "after"); err != nil {
		return err
	}
	iq.Limit = int(limit)
	page, err := assets.ListSessionItemsPage(r.Context(), a.cfg.DB, id, iq)
	if err != nil {
		return err
	}
	out := map[string]any{"count": len(page.Items), "data": page.Items}
	if page.Next != 0 {
		out["next_after"] = page.Next
	}
	return WriteJSON(w, http.StatusOK, out)
}

func (a *API) scan(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var in assets.ScanInput
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.ClientScanID == "" {
		// The Idempotency-Key header serves as the client scan id too.
		in.ClientScanID = actor.RequestFrom(r.Context()).IdempotencyKey
	}
	res, err := assets.ScanAsset(r.Context(), a.cfg.DB, id, in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res.Duplicate {
		status = http.StatusOK
	}
	return WriteJSON(w, status, res)
}

type assetRef struct {
	AssetID int64 `json:"asset_id"`
}

func (a *API) includeAsset(w http.ResponseWriter, r *http.Request) error {
	return a.scopeChange(w, r, assets.IncludeAsset)
}

func (a *API) excludeAsset(w http.ResponseWriter, r *http.Request) error {
	return a.scopeChange(w, r, assets.ExcludeAsset)
}

func (a *API) scopeChange(w http.ResponseWriter, r *http.Request, change func(context.Context, *store.DB, int64, int64) error) error {
	if _, err := actor.Require(r.Context(), actor.ManageSessions); err != nil {
		return err // before reading the body: a forbidden caller learns nothing about validation
	}
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var in assetRef
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.AssetID <= 0 {
		return fault.Field("asset_id", "required")
	}
	if err := change(r.Context(), a.cfg.DB, id, in.AssetID); err != nil {
		return err
	}
	s, err := assets.GetSession(r.Context(), a.cfg.DB, id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, s)
}

func (a *API) stage(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	assetID, err := PathID(r, "asset")
	if err != nil {
		return err
	}
	var in assets.StagedChange
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := assets.StageChanges(r.Context(), a.cfg.DB, id, assetID, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) stagePhoto(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	assetID, err := PathID(r, "asset")
	if err != nil {
		return err
	}
	if _, err := actor.Require(r.Context(), actor.RunSessions); err != nil {
		return err
	}
	data, err := readPhoto(w, r)
	if err != nil {
		return err
	}
	p, err := assets.StagePhoto(r.Context(), a.cfg.DB, id, assetID, data)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, p)
}

func (a *API) sessionReportCSV(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	name, err := assets.WriteSessionReportCSV(r.Context(), a.cfg.DB, id, &buf)
	if err != nil {
		return err
	}
	return download.Send(w, download.File{Name: name, ContentType: "text/csv; charset=utf-8"}, buf.Bytes())
}

func (a *API) listSchedules(w http.ResponseWriter, r *http.Request) error {
	list, err := assets.ListSchedules(r.Context(), a.cfg.DB)
	if err != nil {
		return err
	}
	if list == nil {
		list = []assets.Schedule{}
	}
	return WriteJSON(w, http.StatusOK, map[string]any{"count": len(list), "data": list})
}

func (a *API) updateSchedule(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageSessions); err != nil {
		return err
	}
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Active *bool `json:"active"`
	}
	if err := DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Active == nil {
		return fault.Field("active", "required")
	}
	if err := assets.SetScheduleActive(r.Context(), a.cfg.DB, id, *in.Active); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteAsset(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAssets); err != nil {
		return err
	}
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	out, err := assets.DeleteAsset(r.Context(), a.cfg.DB, id, assets.LifecycleInput{Reason: r.URL.Query().Get("reason")})
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, out)
}

func (a *API) deleteSchedule(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageSessions); err != nil {
		return err
	}
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if err := assets.DeleteSchedule(r.Context(), a.cfg.DB, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
