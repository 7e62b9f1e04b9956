// Package mail sends e-mail notifications. The install's operator configures
// SMTP when starting serve (Config, ParseConfig); a workspace admin keeps a
// list of standing recipients and sends test messages (recipients.go); the
// mail consumer turns each ALERT_RAISED activity event, as it is sealed, into
// one outbox row per recipient in the same transaction as its ledger cursor
// (consume.go); and a sender on one elected node delivers the outbox with
// bounded time per attempt and exponential backoff, recording every attempt
// (send.go). Nothing is lost when the SMTP server refuses: the message stays
// in the outbox, and the page says why.
package mail

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The serve flags that configure e-mail, named in every error about them.
const (
	FlagURL      = "--smtp-url"
	FlagFrom     = "--smtp-from"
	FlagStartTLS = "--smtp-starttls"
	FlagTimeout  = "--smtp-timeout"
	FlagBaseURL  = "--base-url"
)

// StartTLS is what a plain smtp:// connection does about STARTTLS.
type StartTLS string

const (
	// StartTLSRequired refuses to send unless the server upgrades the
	// connection (the default: credentials and alerts stay off the wire).
	StartTLSRequired StartTLS = "required"
	// StartTLSOpportunistic upgrades when the server offers it.
	StartTLSOpportunistic StartTLS = "opportunistic"
	// StartTLSNone never upgrades (a relay on the same host or network).
	StartTLSNone StartTLS = "none"
)

// Settings are the operator's raw values, as given to serve.
type Settings struct {
	URL      string // smtp://user:pass@host:587 or smtps://user:pass@host:465
	From     string // the sender address, e.g. "stocktrail <alerts@example.com>"
	StartTLS string // required (default), opportunistic, none; smtp:// only
	Timeout  string // bounded time of one delivery attempt, e.g. 30s (default)
	BaseURL  string // the install's public address for links, e.g. https://stock.example.com
}

// Config is validated SMTP configuration. The zero Config means e-mail is not
// configured: nothing is sent, and the page says so.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	// ImplicitTLS is smtps://: TLS from the first byte.
	ImplicitTLS bool
	StartTLS    StartTLS
	From        string
	// Timeout bounds one attempt: connecting, the dialogue and the data.
	Timeout time.Duration
	// BaseURL is the install's public address, without a trailing slash;
	// empty when the operator set none (messages then carry the path alone).
	BaseURL string
}

// DefaultTimeout bounds one delivery attempt unless the operator says otherwise.
const DefaultTimeout = 30 * time.Second

// Configured reports whether e-mail can be sent.
func (c Config) Configured() bool { return c.Host != "" }

// Security describes how the connection is protected, for the page.
func (c Config) Security() string {
	switch {
	case c.ImplicitTLS:
		return "TLS from the start (smtps)"
	case c.StartTLS == StartTLSRequired:
		return "STARTTLS required"
	case c.StartTLS == StartTLSOpportunistic:
		return "STARTTLS when the server offers it"
	default:
		return "no encryption"
	}
}

// Link returns the address of path (such as /notifications/alerts/4) for a
// message, and whether it is complete (false when no base URL is set).
func (c Config) Link(path string) (string, bool) {
	if c.BaseURL == "" {
		return path, false
	}
	return c.BaseURL + path, true
}

// ParseConfig validates the operator's settings. An empty URL means e-mail
// is off (any other e-mail setting given with it is then an error, since the
// operator evidently meant to configure it). Each error names the setting.
func ParseConfig(s Settings) (Config, error) {
	var c Config
	base, err := parseBaseURL(s.BaseURL)
	if err != nil {
		return Config{}, err
	}
	if strings.TrimSpace(s.URL) == "" {
		for flagName, v := range map[string]string{FlagFrom: s.From, FlagStartTLS: s.StartTLS, FlagTimeout: s.Timeout} {
			if strings.TrimSpace(v) != "" {
				return Config{}, fmt.Errorf("%s is set but %s is not: give the SMTP server's address too", flagName, FlagURL)
			}
		}
		return Config{BaseURL: base}, nil
	}
	c.BaseURL = base
	u, err := url.Parse(strings.TrimSpace(s.URL))
	if err != nil {
		return Config{}, fmt.Errorf("%s: not a URL (expected smtp://user:password@host:587 or smtps://…)", FlagURL)
	}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		c.ImplicitTLS = true
	default:
		return Config{}, fmt.Errorf("%s: the scheme must be smtp or smtps, not %q", FlagURL, u.Scheme)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return Config{}, fmt.Errorf("%s: give only user, password, host and port (no path or query)", FlagURL)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return Config{}, fmt.Errorf("%s: the host is missing", FlagURL)
	}
	c.Port = 587
	if c.ImplicitTLS {
		c.Port = 465
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("%s: the port must be a number from 1 to 65535", FlagURL)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if c.Username == "" {
			return Config{}, fmt.Errorf("%s: a password is given without a user name", FlagURL)
		}
	}
	c.StartTLS = StartTLSRequired
	switch v := StartTLS(strings.ToLower(strings.TrimSpace(s.StartTLS))); v {
	case "":
	case StartTLSRequired, StartTLSOpportunistic, StartTLSNone:
		if c.ImplicitTLS && v != StartTLSRequired {
			return Config{}, fmt.Errorf("%s: smtps:// is always encrypted; leave %s out or use smtp://", FlagStartTLS, FlagStartTLS)
		}
		c.StartTLS = v
	default:
		return Config{}, fmt.Errorf("%s: must be required, opportunistic or none, not %q", FlagStartTLS, s.StartTLS)
	}
	if c.Username != "" && c.StartTLS == StartTLSNone && !c.ImplicitTLS && !isLoopback(c.Host) {
		return Config{}, fmt.Errorf("%s: sending a password without encryption to %s is refused: use smtps://, or %s required or opportunistic", FlagStartTLS, c.Host, FlagStartTLS)
	}
	from := strings.TrimSpace(s.From)
	if from == "" {
		return Config{}, fmt.Errorf("%s: the sender address is required when %s is set", FlagFrom, FlagURL)
	}
	addr, err := mail.ParseAddress(from)
	if err != nil || !strings.Contains(addr.Address, "@") {
		return Config{}, fmt.Errorf("%s: %q is not an e-mail address", FlagFrom, from)
	}
	c.From = addr.String()
	c.Timeout = DefaultTimeout
	if t := strings.TrimSpace(s.Timeout); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d < time.Second || d > 10*time.Minute {
			return Config{}, fmt.Errorf("%s: must be a duration from 1s to 10m, such as 30s", FlagTimeout)
		}
		c.Timeout = d
	}
	return c, nil
}

func parseBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: must be the install's public address, such as https://stock.example.com", FlagBaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%s: give only scheme, host and an optional path (no user, query or fragment)", FlagBaseURL)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseAddress checks one recipient address and returns it in canonical
// form: the bare address, without a display name, in lower case (so the
// same mailbox is not listed twice; mail systems treat addresses so).
func ParseAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("enter an e-mail address")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") || len(a.Address) > 254 {
		return "", fmt.Errorf("%q is not an e-mail address like name@example.com", s)
	}
	return strings.ToLower(a.Address), nil
}
