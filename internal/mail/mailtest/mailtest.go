// Package mailtest starts a real SMTP server (github.com/emersion/go-smtp)
// on a loopback port for tests: it records what it accepts, and can be told
// to refuse, as a mail server that is full or does not know the mailbox.
package mailtest

import (
	"errors"
	"io"
	"mime/quotedprintable"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From, To string
	// Data is the message's header and decoded body, as a person reads it.
	Data string
}

// readable decodes a message's quoted-printable body.
func readable(raw string) string {
	head, body, _ := strings.Cut(raw, "\n\n")
	if strings.Contains(head, "Content-Transfer-Encoding: quoted-printable") {
		b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
		if err != nil {
			return raw
		}
		body = string(b)
	}
	return head + "\n\n" + body
}

// Server is a real SMTP server on a loopback port. It takes a PLAIN login
// as user Username with password Password, and refuses every RCPT while
// Refuse is in force.
type Server struct {
	Addr string
	mu   sync.Mutex
	// refuse, when set, is the reply to every RCPT.
	refuse *smtp.SMTPError
	got    []Received
	srv    *smtp.Server
}

// Username and Password are the login the server accepts.
const Username, Password = "user", "secret"

// Start starts a server, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ts := &Server{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &testSession{srv: ts}, nil }))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true // loopback only
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.Addr, ts.srv = l.Addr().String(), s
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return ts
}

// Refuse makes the server answer every RCPT with code.
func (ts *Server) Refuse(code int, enhanced smtp.EnhancedCode, msg string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.refuse = &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}

// Accept ends a refusal.
func (ts *Server) Accept() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.refuse = nil
}

// Received returns the messages accepted so far.
func (ts *Server) Received() []Received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]Received(nil), ts.got...)
}

type testSession struct {
	srv      *Server
	authed   bool
	from, to string
}

func (s *testSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != Username || password != Password {
			return errors.New("invalid username or password")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *testSession) Mail(from string, opts *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.srv.refuse != nil {
		return s.srv.refuse
	}
	s.to = to
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.got = append(s.srv.got, Received{From: s.from, To: s.to, Data: readable(strings.ReplaceAll(string(b), "\r\n", "\n"))})
	return nil
}

func (s *testSession) Reset()        { s.from, s.to = "", "" }
func (s *testSession) Logout() error { return nil }
