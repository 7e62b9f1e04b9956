package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/mail"
)

func TestParseConfig(t *testing.T) {
	c, err := mail.ParseConfig(mail.Settings{URL: "smtp://bob:p%40ss@mail.example.com", From: "stocktrail <alerts@example.com>",
		BaseURL: "https://stock.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "mail.example.com" || c.Port != 587 || c.Username != "bob" || c.Password != "p@ss" ||
		c.StartTLS != mail.StartTLSRequired || c.ImplicitTLS || c.Timeout != mail.DefaultTimeout ||
		c.From != `"stocktrail" <alerts@example.com>` || c.BaseURL != "https://stock.example.com" {
		t.Fatalf("config = %+v", c)
	}
	if link, ok := c.Link("/notifications/alerts/3"); !ok || link != "https://stock.example.com/notifications/alerts/3" {
		t.Fatalf("link = %q %v", link, ok)
	}
	c, err = mail.ParseConfig(mail.Settings{URL: "smtps://mail.example.com", From: "alerts@example.com", Timeout: "5s"})
	if err != nil || c.Port != 465 || !c.ImplicitTLS || c.Timeout != 5*time.Second {
		t.Fatalf("smtps: %+v %v", c, err)
	}
	if link, ok := c.Link("/x"); ok || link != "/x" {
		t.Fatalf("link without base URL = %q %v", link, ok)
	}
	c, err = mail.ParseConfig(mail.Settings{})
	if err != nil || c.Configured() {
		t.Fatalf("no URL: %+v %v", c, err)
	}

	bad := []struct {
		s    mail.Settings
		flag string
	}{
		{mail.Settings{URL: "http://mail.example.com", From: "a@b.c"}, "--smtp-url"},
		{mail.Settings{URL: "smtp://", From: "a@b.c"}, "--smtp-url"},
		{mail.Settings{URL: "smtp://mail.example.com:99999", From: "a@b.c"}, "--smtp-url"},
		{mail.Settings{URL: "smtp://mail.example.com/path", From: "a@b.c"}, "--smtp-url"},
		{mail.Settings{URL: "smtp://mail.example.com"}, "--smtp-from"},
		{mail.Settings{URL: "smtp://mail.example.com", From: "not an address"}, "--smtp-from"},
		{mail.Settings{URL: "smtp://mail.example.com", From: "a@b.c", StartTLS: "sometimes"}, "--smtp-starttls"},
		{mail.Settings{URL: "smtps://mail.example.com", From: "a@b.c", StartTLS: "none"}, "--smtp-starttls"},
		{mail.Settings{URL: "smtp://u:p@mail.example.com", From: "a@b.c", StartTLS: "none"}, "--smtp-starttls"},
		{mail.Settings{URL: "smtp://mail.example.com", From: "a@b.c", Timeout: "forever"}, "--smtp-timeout"},
		{mail.Settings{URL: "smtp://mail.example.com", From: "a@b.c", Timeout: "1h"}, "--smtp-timeout"},
		{mail.Settings{From: "a@b.c"}, "--smtp-from"},
		{mail.Settings{BaseURL: "stock.example.com"}, "--base-url"},
		{mail.Settings{BaseURL: "ftp://stock.example.com"}, "--base-url"},
	}
	for _, b := range bad {
		_, err := mail.ParseConfig(b.s)
		if err == nil || !strings.HasPrefix(err.Error(), b.flag) && !strings.Contains(err.Error(), b.flag) {
			t.Errorf("%+v: err = %v, want one naming %s", b.s, err, b.flag)
		}
	}
	// A password in the clear is fine to a relay on the same host.
	if _, err := mail.ParseConfig(mail.Settings{URL: "smtp://u:p@127.0.0.1:2525", From: "a@b.c", StartTLS: "none"}); err != nil {
		t.Fatalf("loopback relay: %v", err)
	}
}

func TestParseAddress(t *testing.T) {
	if a, err := mail.ParseAddress(" Ann@Example.COM "); err != nil || a != "ann@example.com" {
		t.Fatalf("%q %v", a, err)
	}
	for _, s := range []string{"", "ann", "Ann <ann@example.com>", "ann@", "@example.com"} {
		if _, err := mail.ParseAddress(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
