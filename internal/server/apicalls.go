package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// recordAPICalls records every API call made with an API key (API_CALL) and
// every API answer of 400 or more, whoever made the call (API_ERROR): one
// lean event with the method, path and status; the key is the event's actor
// and the request id, address and user agent come with it.
//
// A call that changes something records its API_CALL inside the change's
// own transaction, just before COMMIT: the call and its effect commit
// together, and a busy integration does not pay a second durable commit per
// call. The HTTP status is not known yet at that point, so such an event
// says "committed" instead. Calls without a transaction of their
// own (reads) and failed calls (status 400 or more, whose transaction has
// rolled back and must not take the record of the failure with it) are
// recorded after the handler in a transaction of their own, before the
// answer completes, so a client that got its answer can already find the
// call in the log.
//
// Successful calls to the audit-log endpoints record no API_CALL: they
// record a READ (or the manual entry) themselves, with the same key,
// request id and address, and a second event per call would double-count
// audit-log access. Their errors are still recorded, so probing the audit
// log with the wrong key shows up.
//
// Calls without a resolved party (no or a wrong credential) are not
// recorded here: an event belongs to a workspace, and an unknown caller has
// none. The request log still has them.
func (s *Server) recordAPICalls(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isAPI(r) {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		outer := r.Context() // without the hook: the events below have transactions of their own
		who, ok := actor.From(outer)
		var inTx atomic.Bool
		if ok && who.Kind == actor.APIKey && !isAuditLogPath(r.URL.Path) {
			r = r.WithContext(store.WithBeforeCommit(r.Context(), func(ctx context.Context, tx *store.Tx) error {
				if inTx.Load() {
					return nil // an earlier transaction of this call already has it
				}
				tx.AfterCommit(func() { inTx.Store(true) })
				return activity.Note(ctx, tx, activity.Event{Action: activity.APICall, Category: activity.API,
					EntityType: "api_keys", EntityID: fmt.Sprint(who.ID),
					New:         map[string]any{"method": r.Method, "path": r.URL.Path, "committed": true},
					Description: fmt.Sprintf("%s %s → committed", r.Method, r.URL.Path)})
			}))
		}
		next.ServeHTTP(rec, r)
		if !ok {
			return
		}
		action := activity.APIError
		if rec.status < 400 {
			if who.Kind != actor.APIKey || isAuditLogPath(r.URL.Path) || inTx.Load() {
				return
			}
			action = activity.APICall
		}
		ev := activity.Event{Action: action, Category: activity.API,
			New:         map[string]any{"method": r.Method, "path": r.URL.Path, "status": rec.status},
			Description: fmt.Sprintf("%s %s → %d", r.Method, r.URL.Path, rec.status)}
		if who.Kind == actor.APIKey {
			ev.EntityType, ev.EntityID = "api_keys", fmt.Sprint(who.ID)
		}
		// The client hanging up must not lose the record of its call.
		if err := activity.RecordNow(context.WithoutCancel(outer), s.cfg.DB, ev); err != nil {
			s.cfg.Logger.ErrorContext(outer, "record API call", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	})
}

func isAuditLogPath(path string) bool {
	return path == "/api/v1/audit-logs" || strings.HasPrefix(path, "/api/v1/audit-logs/")
}
