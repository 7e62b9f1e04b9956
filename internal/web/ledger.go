package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/inventory"
	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Settings → Ledger: what an auditor pins and checks (the verifier key, the
// latest signed checkpoint), whether sealing keeps up, and key rotation for
// admins. Admins and auditors, who read the activity log the ledger seals.
func (wb *Web) registerLedger(mux *http.ServeMux) {
	mux.HandleFunc("GET /settings/ledger", wb.page(wb.ledgerPage))
	mux.HandleFunc("GET /settings/ledger/rotate", wb.page(wb.confirmRotation))
	mux.HandleFunc("POST /settings/ledger/rotate", wb.page(wb.rotateLedgerKey))
}

// ledgerViewPermission is what seeing the ledger page takes.
const ledgerViewPermission = actor.ViewActivity

// ledgerRotatePermission is what rotating the signing key takes: admins
// only, as for every other workspace setting they alone change.
const ledgerRotatePermission = actor.ManageSettings

// Verification is the outcome of the last check of the sealed trail
// against its checkpoints. Nothing produces it yet: the server's periodic
// check will, and the page shows it only when set.
type Verification struct {
	At     time.Time
	OK     bool
	Detail string
}

// keyRow is a verifier key with the time it was added in the workspace's
// zone.
type keyRow struct {
	ledger.VerifierKey
	Added string
}

type ledgerView struct {
	// Sealing says whether this node runs the sealer.
	Sealing bool
	// CanRotate says whether the key can be rotated from here: this node
	// seals, with a key from a file, and the viewer is an admin.
	CanRotate bool
	// KeyFromFlag says the key was given by flag or environment, so it is
	// rotated there.
	KeyFromFlag bool
	Current     *keyRow
	Older       []keyRow
	Checkpoint  *ledger.Checkpoint
	// SignedAt is the checkpoint's time in the workspace's zone.
	SignedAt string
	TimeZone string
	Backlog  ledger.Backlog
	// Lag is the oldest pending entry's wait in words; empty when all is
	// sealed.
	Lag string
	// LastVerification is this node's latest check, once it has run.
	LastVerification *Verification
	// Confirm asks to confirm a key rotation.
	Confirm bool
}

func (wb *Web) ledgerPage(w http.ResponseWriter, r *http.Request) error {
	v, err := wb.ledgerView(r)
	if err != nil {
		return err
	}
	return wb.show(w, r, "ledger.html", "Ledger", v, nil)
}

func (wb *Web) ledgerView(r *http.Request) (ledgerView, error) {
	a, err := actor.Require(r.Context(), ledgerViewPermission)
	if err != nil {
		return ledgerView{}, err
	}
	v := ledgerView{Sealing: wb.cfg.Ledger != nil}
	v.KeyFromFlag = v.Sealing && wb.cfg.Ledger.KeyFile == ""
	v.CanRotate = v.Sealing && !v.KeyFromFlag && a.Can(ledgerRotatePermission)
	keys, err := ledger.VerifierKeys(r.Context(), wb.cfg.DB)
	if err != nil {
		return ledgerView{}, err
	}
	zone := wb.zone(r, a)
	v.TimeZone = zone.String()
	for i, k := range keys {
		row := keyRow{VerifierKey: k, Added: k.AddedAt.In(zone).Format("2006-01-02 15:04")}
		if i == 0 {
			v.Current = &row
		} else {
			v.Older = append(v.Older, row)
		}
	}
	switch c, err := ledger.LatestCheckpoint(r.Context(), wb.cfg.DB); {
	case err == nil:
		v.Checkpoint = &c
		v.SignedAt = c.SignedAt.In(zone).Format("2006-01-02 15:04:05")
	case fault.KindOf(err) != fault.NotFound:
		return ledgerView{}, err
	}
	if m := wb.cfg.LedgerMonitor; m != nil {
		if st := m.Status(); st.Checked {
			v.LastVerification = &Verification{At: st.CheckedAt.In(zone), OK: st.OK, Detail: st.Summary}
		}
	}
	if v.Backlog, err = ledger.PendingBacklog(r.Context(), wb.cfg.DB); err != nil {
		return ledgerView{}, err
	}
	if v.Backlog.Pending > 0 {
		v.Lag = waited(v.Backlog.Lag(time.Now()))
	}
	return v, nil
}

// waited says a wait in words, as precisely as a person needs.
func waited(d time.Duration) string {
	switch {
	case d < time.Second:
		return "under a second"
	case d < time.Minute:
		return plural(int64(d/time.Second), "second")
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int64(d/time.Hour), "hour") + " " + plural(int64(d%time.Hour/time.Minute), "minute")
	}
	return plural(int64(d/(24*time.Hour)), "day")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// rotationAllowed checks that the viewer may rotate the key and that this
// node can.
func (wb *Web) rotationAllowed(r *http.Request) error {
	if _, err := actor.Require(r.Context(), ledgerRotatePermission); err != nil {
		return err
	}
	if wb.cfg.Ledger == nil {
		return fault.New(fault.Conflict, "this server does not seal the ledger, so it holds no key to rotate")
	}
	if wb.cfg.Ledger.KeyFile == "" {
		return fault.New(fault.Conflict, "the ledger key was given by flag or environment: rotate it there and restart every node")
	}
	return nil
}

// confirmRotation asks before rotating: auditors who pinned the old key
// must be given the new one.
func (wb *Web) confirmRotation(w http.ResponseWriter, r *http.Request) error {
	if err := wb.rotationAllowed(r); err != nil {
		return err
	}
	v, err := wb.ledgerView(r)
	if err != nil {
		return err
	}
	v.Confirm = true
	return wb.show(w, r, "ledger.html", "Rotate the ledger key", v, nil)
}

func (wb *Web) rotateLedgerKey(w http.ResponseWriter, r *http.Request) error {
	if err := wb.rotationAllowed(r); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != "rotate" {
		return fault.Field("confirm", "confirm the rotation on the confirmation page")
	}
	keys, err := ledger.VerifierKeys(r.Context(), wb.cfg.DB)
	if err != nil {
		return err
	}
	key, err := wb.cfg.Ledger.RotateKey(r.Context())
	if err != nil {
		return err
	}
	old := map[string]any{}
	if len(keys) > 0 {
		old["verifier_key"] = keys[0].Key
	}
	// The key lives outside the database, so its rotation cannot share a
	// transaction with this event; the new key is already registered.
	if err := wb.cfg.DB.InTx(r.Context(), func(tx *store.Tx) error {
		_, err := activity.Record(r.Context(), tx, activity.Event{Action: activity.Update, Category: activity.Configuration,
			EntityType: "ledger_keys", EntityID: key.Name(), Old: old, New: map[string]any{"verifier_key": key.Verifier},
			Description: "ledger signing key rotated"})
		return err
	}); err != nil {
		return err
	}
	return redirect(w, r, "/settings/ledger", "Key rotated. Give auditors the new verifier key; checkpoints signed before still verify with the older keys.")
}

// logRow is a change-log entry with its place in the ledger, once sealed,
// and the record-creation entry folded into it (inventory.FoldCreations).
type logRow struct {
	inventory.Entry
	Sealed   bool
	Sequence int64
	Created  *inventory.Entry
}

// logRows pairs entries with their sequence numbers, read in one query for
// the page, and folds each movement's record-creation entry into it.
func (wb *Web) logRows(r *http.Request, entries []inventory.Entry) ([]logRow, error) {
	ids := make([]int64, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	seqs, err := ledger.Sequences(r.Context(), wb.cfg.DB, ledger.InventoryLog, ids)
	if err != nil {
		return nil, err
	}
	folded := inventory.FoldCreations(entries)
	rows := make([]logRow, len(folded))
	for i, e := range folded {
		seq, sealed := seqs[e.ID]
		rows[i] = logRow{Entry: e.Entry, Sealed: sealed, Sequence: seq, Created: e.Created}
	}
	return rows, nil
}
