package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
)

func (wb *Web) loginPage(w http.ResponseWriter, r *http.Request) error {
	if _, ok := actor.From(r.Context()); ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	var err error
	if msg := r.URL.Query().Get("msg"); msg != "" {
		err = fault.New(fault.Unauthorized, "%s", msg)
	}
	wb.render(w, r, http.StatusOK, "login.html", "Log in", map[string]string{"Next": safeNext(r.URL.Query().Get("next"))}, err)
	return nil
}

// safeNext only follows local paths after login, never another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (wb *Web) login(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	next := safeNext(r.PostFormValue("next"))
	sess, err := wb.cfg.Auth.Login(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"))
	if err != nil {
		if k := fault.KindOf(err); k == fault.Unauthorized || k == fault.TooManyRequests {
			if e, ok := fault.As(err); ok && e.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
			}
			wb.render(w, r, fault.HTTPStatus(k), "login.html", "Log in", map[string]string{"Next": next}, err)
			return nil
		}
		return err
	}
	setSessionCookie(w, sess.Token, isSecure(r.Context()), sess.ExpiresAt.Add(wb.cfg.Auth.SessionMax))
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (wb *Web) logout(w http.ResponseWriter, r *http.Request) error {
	if token := sessionToken(r.Context()); token != "" {
		if err := wb.cfg.Auth.Logout(r.Context(), token); err != nil {
			return err
		}
	}
	ClearSessionCookie(w, isSecure(r.Context()))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (wb *Web) home(w http.ResponseWriter, r *http.Request) error {
	a, ok := actor.From(r.Context())
	if !ok {
		return fault.New(fault.Unauthorized, "log in first")
	}
	return wb.show(w, r, "home.html", "Home", a, nil)
}
