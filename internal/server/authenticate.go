package server

import (
	"net/http"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/web"
)

// authenticate resolves the one responsible party of a request: an API key
// or station token in the Authorization header, or a session cookie (on the
// station screen, the station's own). A request presenting a bad bearer
// credential is refused; one without credentials goes on anonymous and the
// page or endpoint decides. Requests authenticated by cookie must carry the
// session's CSRF token on every unsafe method.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, secret, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
				s.fail(w, r, fault.New(fault.Unauthorized, "use Authorization: Bearer <API key>"))
				return
			}
			a, err := s.cfg.Auth.ResolveBearer(ctx, strings.TrimSpace(secret))
			if err != nil {
				s.fail(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(actor.With(ctx, a)))
			return
		}
		// The station screen has its own session cookie, read there only: a
		// station's browser acts as the station on /station and as nobody
		// anywhere else, and a user's session does not reach the screen.
		name, resolve, forget := web.SessionCookie, s.cfg.Auth.ResolveSession, web.ClearSessionCookie
		if web.IsStationPath(r.URL.Path) {
			name, resolve, forget = web.StationCookie, s.cfg.Auth.ResolveStationSession, web.ClearStationCookie
		}
		cookie, err := r.Cookie(name)
		if err != nil || cookie.Value == "" {
			next.ServeHTTP(w, r.WithContext(web.WithSecure(ctx, s.secure(r))))
			return
		}
		a, csrf, err := resolve(ctx, cookie.Value)
		if err != nil {
			if fault.KindOf(err) != fault.Unauthorized {
				s.fail(w, r, err)
				return
			}
			// A stale cookie: forget it and go on as a visitor, telling the
			// web page why so it can say "your session has expired".
			forget(w, s.secure(r))
			ctx = web.WithSessionProblem(ctx, fault.PublicMessage(err))
			next.ServeHTTP(w, r.WithContext(web.WithSecure(ctx, s.secure(r))))
			return
		}
		ctx = web.WithSession(web.WithSecure(actor.With(ctx, a), s.secure(r)), cookie.Value, csrf)
		if unsafeMethod(r.Method) {
			got := r.Header.Get("X-CSRF-Token")
			if got == "" {
				// Forms carry the token in a field; cap what parsing it may read.
				r.Body = http.MaxBytesReader(w, r.Body, web.MaxFormBytes)
				got = r.PostFormValue(web.CSRFField)
			}
			if !auth.CheckCSRF(csrf, got) {
				s.fail(w, r, fault.New(fault.Forbidden, "missing or wrong CSRF token; reload the page and try again"))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}
