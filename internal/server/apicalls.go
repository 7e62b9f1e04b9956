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

// recordAPICalls records every call made with an API key (API_CALL) and
// every answer of 400 or more, whoever called (API_ERROR).
//
// A call that changes something records its API_CALL inside the change's
// transaction, so the call and its effect commit together without a second
// durable commit; the status is not known then, so the event says
// "committed". Reads and failures (whose transaction rolled back) are
// recorded after the handler, before the answer completes. The audit-log
// endpoints record their own READ instead, so only their errors are
// recorded here. Unknown callers have no workspace to record into.
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
