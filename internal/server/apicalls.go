package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
)

// recordAPICalls records every API call made with an API key (API_CALL) and
// every API answer of 400 or more, whoever made the call (API_ERROR): one
// lean event with the method, path and status; the key is the event's actor
// and the request id, address and user agent come with it.
//
// The event is written in a transaction of its own, after the handler, not
// inside the handler's transaction: only then is the status known, a failed
// call's own transaction has rolled back (and its record of the failure must
// not go with it), and reads have no transaction at all. It is written
// before the answer completes, so a client that got its answer can already
// find the call in the log.
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
		next.ServeHTTP(rec, r)
		who, ok := actor.From(r.Context())
		if !ok {
			return
		}
		action := activity.APIError
		if rec.status < 400 {
			if who.Kind != actor.APIKey || isAuditLogPath(r.URL.Path) {
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
		if err := activity.RecordNow(context.WithoutCancel(r.Context()), s.cfg.DB, ev); err != nil {
			s.cfg.Logger.ErrorContext(r.Context(), "record API call", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	})
}

func isAuditLogPath(path string) bool {
	return path == "/api/v1/audit-logs" || strings.HasPrefix(path, "/api/v1/audit-logs/")
}
