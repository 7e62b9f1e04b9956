package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
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
	wb.render(w, r, http.StatusOK, "login.html", "Log in", map[string]string{"Next": safeNext(r.URL.Query().Get("next")),
		"LoginToken": loginToken(w, r)}, err)
	return nil
}

// LoginCookie carries the login form's token (login CSRF: without it, a
// page elsewhere could post its own credentials to /login and have the
// victim work, unknowingly, in the attacker's account).
const LoginCookie = "stocktrail_login"

// loginToken returns the login form's token: the browser's, or a new one
// set as its cookie (sent only to /login).
func loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(LoginCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: LoginCookie, Value: token, Path: "/login", HttpOnly: true,
		Secure: isSecure(r.Context()), SameSite: http.SameSiteStrictMode, MaxAge: 12 * 3600})
	return token
}

// loginTokenValid reports whether the posted form carries the token of the
// browser's login cookie.
func loginTokenValid(r *http.Request) bool {
	c, err := r.Cookie(LoginCookie)
	return err == nil && len(c.Value) == 43 && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf_token"))) == 1
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
	if !loginTokenValid(r) {
		wb.render(w, r, http.StatusForbidden, "login.html", "Log in", map[string]string{"Next": next, "LoginToken": loginToken(w, r)},
			fault.New(fault.Forbidden, "this login form has expired or came from another site; log in again"))
		return nil
	}
	ctx := r.Context()
	if c, err := r.Cookie(DeviceCookie); err == nil {
		req := actor.RequestFrom(ctx)
		req.Device = c.Value
		ctx = actor.WithRequest(ctx, req)
	}
	sess, err := wb.cfg.Auth.Login(ctx, r.PostFormValue("email"), r.PostFormValue("password"))
	if err != nil {
		if k := fault.KindOf(err); k == fault.Unauthorized || k == fault.TooManyRequests {
			if e, ok := fault.As(err); ok && e.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
			}
			wb.render(w, r, fault.HTTPStatus(k), "login.html", "Log in", map[string]string{"Next": next, "LoginToken": loginToken(w, r)}, err)
			return nil
		}
		return err
	}
	setSessionCookie(w, sess.Token, isSecure(r.Context()), sess.ExpiresAt.Add(wb.cfg.Auth.SessionMax))
	if sess.DeviceToken != "" {
		// This browser has now logged in to the account: the throttles an
		// attacker can trip elsewhere no longer hold it back (auth).
		http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: sess.DeviceToken, Path: "/login", HttpOnly: true,
			Secure: isSecure(r.Context()), SameSite: http.SameSiteStrictMode, MaxAge: 365 * 24 * 3600})
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// DeviceCookie marks a browser that has logged in before (sent only to
// /login).
const DeviceCookie = "stocktrail_device"

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
