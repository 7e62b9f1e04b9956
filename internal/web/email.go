package web

import (
	"net/http"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/mail"
	"github.com/stocktrail/stocktrail/internal/workspace"
)

func (wb *Web) registerEmail(mux *http.ServeMux) {
	mux.HandleFunc("GET /notifications/email", wb.page(wb.emailPage))
	mux.HandleFunc("POST /notifications/email/recipients", wb.page(wb.addEmailRecipient))
	mux.HandleFunc("POST /notifications/email/recipients/{id}/delete", wb.page(wb.removeEmailRecipient))
	mux.HandleFunc("POST /notifications/email/test", wb.page(wb.sendTestEmail))
	mux.HandleFunc("POST /notifications/email/messages/{id}/retry", wb.page(wb.retryEmail))
}

type emailPage struct {
	Config     mail.Config
	Recipients []mail.Recipient
	Messages   []mail.Message
	// Zone shows times in the workspace's time zone.
	Zone *time.Location
	// TestTo is the test form's address, shown again when it was refused.
	TestTo string
	// RetryPolicy is the sender's retry policy, in words.
	RetryPolicy string
}

// Local formats t in the workspace's time zone.
func (p emailPage) Local(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.Zone).Format("2006-01-02 15:04:05 MST")
}

func (wb *Web) emailPage(w http.ResponseWriter, r *http.Request) error {
	return wb.showEmail(w, r, "", nil)
}

func (wb *Web) showEmail(w http.ResponseWriter, r *http.Request, testTo string, formErr error) error {
	ctx := r.Context()
	if _, err := actor.Require(ctx, actor.ViewAlerts); err != nil {
		return err
	}
	ws, err := workspace.Get(ctx, wb.cfg.DB)
	if err != nil {
		return err
	}
	p := emailPage{Config: wb.cfg.Mail, Zone: ws.Settings.Location(), TestTo: testTo, RetryPolicy: mail.RetryPolicy()}
	if p.Recipients, err = mail.Recipients(ctx, wb.cfg.DB); err != nil {
		return err
	}
	if p.Messages, err = mail.Messages(ctx, wb.cfg.DB, 30); err != nil {
		return err
	}
	return wb.show(w, r, "email.html", "E-mail notifications", p, formErr)
}

func (wb *Web) addEmailRecipient(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAlerts); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	rc, err := mail.AddRecipient(r.Context(), wb.cfg.DB, r.PostFormValue("address"))
	if err != nil {
		if fault.KindOf(err) == fault.Invalid {
			return wb.showEmail(w, r, "", err)
		}
		return err
	}
	return redirect(w, r, "/notifications/email", rc.Address+" will receive every alert e-mail")
}

func (wb *Web) removeEmailRecipient(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := mail.RemoveRecipient(r.Context(), wb.cfg.DB, id); err != nil {
		return err
	}
	return redirect(w, r, "/notifications/email", "Recipient removed")
}

func (wb *Web) sendTestEmail(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor.Require(r.Context(), actor.ManageAlerts); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	to := r.PostFormValue("to")
	if _, err := mail.QueueTest(r.Context(), wb.cfg.DB, wb.cfg.Mail, to); err != nil {
		if k := fault.KindOf(err); k == fault.Invalid || k == fault.Conflict {
			return wb.showEmail(w, r, to, err)
		}
		return err
	}
	return redirect(w, r, "/notifications/email", "Test e-mail queued: its delivery shows below within a few seconds (reload the page)")
}

func (wb *Web) retryEmail(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := mail.RetryMessage(r.Context(), wb.cfg.DB, id); err != nil {
		return err
	}
	return redirect(w, r, "/notifications/email", "The e-mail will be sent again")
}
