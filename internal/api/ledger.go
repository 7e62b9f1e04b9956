package api

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stocktrail/stocktrail/internal/download"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
)

// The ledger: the signed checkpoint, the keys that sign it, and inclusion
// and consistency proofs, for auditors and `stocktrail verify`. The ledger
// functions check permissions: an entry's proof takes what reading the
// entry takes.
func (a *API) registerLedger(mux *http.ServeMux) {
	a.handle(mux, "GET /api/v1/ledger/checkpoint", a.ledgerCheckpoint)
	a.handle(mux, "GET /api/v1/ledger/public-key", a.ledgerPublicKey)
	a.handle(mux, "GET /api/v1/ledger/proof", a.ledgerProof)
	a.handle(mux, "GET /api/v1/ledger/consistency", a.ledgerConsistency)
	a.handle(mux, "GET /api/v1/ledger/bundle", a.ledgerBundle)
}

// ledgerBundle downloads a bundle for offline verification (`stocktrail
// verify --bundle`): log=inventory_log or activity_events for that log's
// entries with their proofs, all (the default) for the whole ledger.
func (a *API) ledgerBundle(w http.ResponseWriter, r *http.Request) error {
	log, err := ledger.ParseBundleLog(r.URL.Query().Get("log"))
	if err != nil {
		return err
	}
	sel := ledger.BundleSelection{Log: log}
	name := "all"
	if sel.Log != "" {
		name = string(sel.Log)
	}
	file := download.File{Name: download.Stamped("ledger-bundle-"+name, "jsonl", time.Now()), ContentType: "application/x-ndjson"}
	return download.Stream(w, r, a.cfg.Logger, file, func(out io.Writer) error {
		_, err := ledger.WriteBundle(r.Context(), a.cfg.DB, out, sel)
		return err
	})
}

// wantsText reports whether the client prefers text/plain to JSON by its
// Accept header. JSON is the default: text wins only when named with a
// higher preference than the most specific range covering application/json.
func wantsText(r *http.Request) bool {
	text := 0.0
	jsonQ := map[string]float64{} // by range: application/json, application/*, */*
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		switch mt {
		case "text/plain":
			text = max(text, q)
		case "application/json", "application/*", "*/*":
			jsonQ[mt] = q
		}
	}
	jsonWeight := 0.0
	for _, mt := range []string{"*/*", "application/*", "application/json"} {
		if q, ok := jsonQ[mt]; ok {
			jsonWeight = q // a more specific range overrides
		}
	}
	return text > jsonWeight
}

// writeText answers s as plain text.
func writeText(w http.ResponseWriter, s string) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write([]byte(s))
	return err
}

func (a *API) ledgerCheckpoint(w http.ResponseWriter, r *http.Request) error {
	c, err := ledger.LatestCheckpoint(r.Context(), a.cfg.DB)
	if err != nil {
		return err
	}
	if wantsText(r) {
		return writeText(w, c.Note)
	}
	return WriteJSON(w, http.StatusOK, c)
}

func (a *API) ledgerPublicKey(w http.ResponseWriter, r *http.Request) error {
	keys, err := ledger.VerifierKeys(r.Context(), a.cfg.DB)
	if err != nil {
		return err
	}
	if wantsText(r) {
		if len(keys) == 0 {
			return fault.New(fault.NotFound, "this install has no ledger key yet: it is made when the server first seals")
		}
		return writeText(w, keys[0].Key+"\n")
	}
	return list(w, keys)
}

// queryLog reads the log parameter: which of the two logs an entry is in.
func queryLog(r *http.Request) (ledger.Log, error) {
	log := ledger.Log(strings.TrimSpace(r.URL.Query().Get("log")))
	if !log.Valid() {
		return "", fault.Field("log", "must be inventory_log or activity_events")
	}
	return log, nil
}

// queryDownload reads the download parameter: 1 offers the answer as a
// file to save instead of showing it.
func queryDownload(r *http.Request) (bool, error) {
	switch r.URL.Query().Get("download") {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	const rule = "must be 1 (save as a file) or 0"
	return false, &fault.Error{Kind: fault.Malformed, Message: "download " + rule, Fields: map[string]string{"download": rule}}
}

func (a *API) ledgerProof(w http.ResponseWriter, r *http.Request) error {
	log, err := queryLog(r)
	if err != nil {
		return err
	}
	id, err := queryID(r, "id")
	if err != nil {
		return err
	}
	if id == 0 {
		return fault.Field("id", "required: the id of the entry to prove")
	}
	save, err := queryDownload(r)
	if err != nil {
		return err
	}
	p, err := ledger.ProveEntry(r.Context(), a.cfg.DB, log, id)
	if err != nil {
		return err
	}
	if !save {
		return WriteJSON(w, http.StatusOK, p)
	}
	body, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	name := "proof-" + string(log) + "-" + strconv.FormatInt(id, 10) + ".json"
	return download.Send(w, download.File{Name: name, ContentType: "application/json"}, append(body, '\n'))
}

func (a *API) ledgerConsistency(w http.ResponseWriter, r *http.Request) error {
	oldSize, err := queryInt(r, "old")
	if err != nil {
		return err
	}
	newSize, err := queryInt(r, "new")
	if err != nil {
		return err
	}
	p, err := ledger.ProveConsistency(r.Context(), a.cfg.DB, oldSize, newSize)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, p)
}

// sequencedEntry is a change-log entry with its place in the ledger, once
// sealed.
type sequencedEntry struct {
	inventory.Entry
	Sequence *int64 `json:"sequence,omitempty"`
}

// withSequences pairs entries with their sequence numbers, read in one
// query for the whole page.
func (a *API) withSequences(r *http.Request, entries []inventory.Entry) ([]sequencedEntry, error) {
	out := make([]sequencedEntry, len(entries))
	if len(entries) == 0 {
		return out, nil
	}
	ids := make([]int64, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	seqs, err := ledger.Sequences(r.Context(), a.cfg.DB, ledger.InventoryLog, ids)
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		out[i].Entry = e
		if seq, ok := seqs[e.ID]; ok {
			out[i].Sequence = &seq
		}
	}
	return out, nil
}
