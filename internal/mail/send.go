package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/stocktrail/stocktrail/internal/store"
)

// The sender's retry policy unless a Sender says otherwise: about four
// hours of tries before a message is given up on.
const (
	DefaultMaxAttempts = 10
	DefaultFirstRetry  = 30 * time.Second
	DefaultMaxRetry    = time.Hour
)

// RetryPolicy describes the default retry policy in words, for the page.
func RetryPolicy() string {
	return fmt.Sprintf("a refused message is tried again after %s, then twice as long each time (at most %s apart), up to %d attempts in all",
		spoken(DefaultFirstRetry), spoken(DefaultMaxRetry), DefaultMaxAttempts)
}

func spoken(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "an hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	default:
		return fmt.Sprintf("%d seconds", d/time.Second)
	}
}

// Sender delivers the outbox. Run SendDue from one elected node (jobs.Mail).
type Sender struct {
	DB     *store.DB
	Config Config
	Logger *slog.Logger
	// Batch caps the messages sent per call (default 20), so one call's
	// work is bounded by Batch × Config.Timeout.
	Batch int
	// MaxAttempts is how many attempts a message gets before it is given
	// up on (DefaultMaxAttempts when zero; an admin may retry it from the
	// page).
	MaxAttempts int
	// FirstRetry is the wait after the first failed attempt
	// (DefaultFirstRetry); each further failure doubles it, up to MaxRetry
	// (DefaultMaxRetry).
	FirstRetry, MaxRetry time.Duration
	// Now replaces the clock in tests.
	Now func() time.Time
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// RetryDelay is the wait after the given number of failed attempts.
func (s *Sender) RetryDelay(failed int) time.Duration {
	first, max := s.FirstRetry, s.MaxRetry
	if first <= 0 {
		first = DefaultFirstRetry
	}
	if max <= 0 {
		max = DefaultMaxRetry
	}
	d := first
	for i := 1; i < failed && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

type due struct {
	ws, id            int64
	to, subject, body string
	attempts          int
	kind              string
	sourceEventID     int64
}

// SendDue sends the messages whose time has come, at most Batch, and
// returns how many were sent. Each attempt is bounded by Config.Timeout
// and recorded with its outcome, in a transaction of its own, so a failure
// of one never holds back the others.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	if !s.Config.Configured() {
		return 0, nil
	}
	batch := s.Batch
	if batch <= 0 {
		batch = 20
	}
	list, err := s.claim(ctx, batch)
	if err != nil {
		return 0, err
	}
	sent := 0
	for i, m := range list {
		if ctx.Err() != nil {
			break
		}
		start := s.now()
		code, sendErr := s.deliver(ctx, m)
		if ctx.Err() != nil {
			// Stopped mid-attempt: the claim's lease lets the next leader retry it.
			break
		}
		if err := s.record(context.WithoutCancel(ctx), m, start, code, sendErr); err != nil {
			return sent, err
		}
		if sendErr == nil {
			sent++
			continue
		}
		s.logger().WarnContext(ctx, "e-mail not delivered", "message", m.id, "workspace", m.ws, "attempt", m.attempts+1, "err", sendErr)
		if code == 0 {
			// No SMTP reply: the server is unreachable, stalled or refused
			// the login, and would be for the rest of the batch too. They
			// are handed back untried (no attempt counted), so one call
			// costs at most one time limit while the server is down.
			return sent, s.release(context.WithoutCancel(ctx), list[i+1:])
		}
	}
	return sent, nil
}

// release hands claimed messages back, due again at once.
func (s *Sender) release(ctx context.Context, list []due) error {
	if len(list) == 0 {
		return nil
	}
	now := store.Micros(s.now())
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		for _, m := range list {
			if _, err := tx.ExecContext(ctx, `UPDATE email_outbox SET next_attempt_at = $3 WHERE workspace_id = $1 AND id = $2 AND status = 'pending'`,
				m.ws, m.id, now); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Sender) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// claim picks the due messages and moves their next attempt past the time
// an attempt may take: should this node lose its leadership mid-send, the
// next leader sends them again only after that lease (at least once, rarely
// twice; never lost).
func (s *Sender) claim(ctx context.Context, batch int) ([]due, error) {
	now := s.now()
	lease := store.Micros(now.Add(2*s.Config.Timeout + time.Minute))
	var out []due
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT workspace_id, id, recipient, subject, body, attempts, kind, source_event_id
			FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT $2`+tx.ForUpdate(), store.Micros(now), batch)
		if err != nil {
			return err
		}
		for rows.Next() {
			var m due
			if err := rows.Scan(&m.ws, &m.id, &m.to, &m.subject, &m.body, &m.attempts, &m.kind, &m.sourceEventID); err != nil {
				rows.Close()
				return err
			}
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, m := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE email_outbox SET next_attempt_at = $3 WHERE workspace_id = $1 AND id = $2`,
				m.ws, m.id, lease); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// record stores an attempt's outcome and the message's next step.
func (s *Sender) record(ctx context.Context, m due, start time.Time, code int, sendErr error) error {
	now := s.now()
	ms := now.Sub(start).Milliseconds()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		ok, msg := 1, ""
		if sendErr != nil {
			ok, msg = 0, describeSendError(sendErr, s.Config.Timeout)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO email_attempts (workspace_id, message_id, attempted_at, duration_ms, ok, smtp_code, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, m.ws, m.id, store.Micros(start), ms, ok, code, msg); err != nil {
			return err
		}
		attempts := m.attempts + 1
		var err error
		switch {
		case sendErr == nil:
			_, err = tx.ExecContext(ctx, `UPDATE email_outbox SET status = 'sent', attempts = $3, sent_at = $4, last_error = ''
				WHERE workspace_id = $1 AND id = $2`, m.ws, m.id, attempts, store.Micros(now))
		case attempts >= s.maxAttempts():
			_, err = tx.ExecContext(ctx, `UPDATE email_outbox SET status = 'failed', attempts = $3, last_error = $4
				WHERE workspace_id = $1 AND id = $2`, m.ws, m.id, attempts, msg)
		default:
			next := now.Add(s.RetryDelay(attempts))
			_, err = tx.ExecContext(ctx, `UPDATE email_outbox SET attempts = $3, last_error = $4, next_attempt_at = $5
				WHERE workspace_id = $1 AND id = $2`, m.ws, m.id, attempts, msg, store.Micros(next))
		}
		return err
	})
}

func (s *Sender) maxAttempts() int {
	if s.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return s.MaxAttempts
}

// deliver makes one attempt, bounded by Config.Timeout from dialling to the
// end of the dialogue, and returns the server's reply code when it refused.
func (s *Sender) deliver(ctx context.Context, m due) (int, error) {
	c := s.Config
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(c.Timeout),
		// The deadline covers the whole dialogue, not just the dial: a
		// server that accepts and then stalls cannot hold the sender.
		gomail.WithDialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return conn, conn.SetDeadline(deadline)
		})}
	switch {
	case c.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case c.StartTLS == StartTLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case c.StartTLS == StartTLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if !c.ImplicitTLS && c.StartTLS == StartTLSNone {
			// A password in the clear: ParseConfig allows it only to a
			// relay on the same host, and autodiscovery would refuse.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	client, err := gomail.NewClient(c.Host, opts...)
	if err != nil {
		return 0, err
	}
	msg := gomail.NewMsg()
	if err := msg.From(c.From); err != nil {
		return 0, fmt.Errorf("sender address: %w", err)
	}
	if err := msg.To(m.to); err != nil {
		return 0, fmt.Errorf("recipient address: %w", err)
	}
	msg.Subject(m.subject)
	msg.SetDate()
	// The same Message-ID on every attempt lets a receiving system drop a
	// duplicate should one attempt be delivered twice.
	msg.SetMessageIDWithValue(fmt.Sprintf("stocktrail.%d.%d@%s", m.ws, m.id, messageIDHost(c.From)))
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.body)
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return 0, nil
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode(), err
	}
	return 0, err
}

func messageIDHost(from string) string {
	if at := strings.LastIndex(from, "@"); at >= 0 {
		return strings.Trim(from[at+1:], "> ")
	}
	return "stocktrail.invalid"
}

// describeSendError says in plain words why an attempt failed, with the
// server's own reply where it gave one, on one line.
func describeSendError(err error, timeout time.Duration) string {
	var msg string
	var se *gomail.SendError
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		msg = fmt.Sprintf("the SMTP server did not answer within %s", timeout)
	case errors.As(err, &se):
		step := "the server refused the message"
		switch se.Reason {
		case gomail.ErrSMTPMailFrom:
			step = "the server refused the sender address"
		case gomail.ErrSMTPRcptTo:
			step = "the server refused the recipient"
		case gomail.ErrConnCheck:
			step = "the connection to the server broke"
		}
		reply := se.Error()
		reply, _, _ = strings.Cut(reply, ", affected recipient(s)")
		reply, _, _ = strings.Cut(reply, ", affected message ID")
		reply = strings.TrimPrefix(reply, se.Reason.String())
		reply = strings.TrimSpace(strings.TrimPrefix(reply, ":"))
		msg = step
		if reply != "" {
			msg += ": " + strings.ReplaceAll(reply, `"`, "")
		}
	case strings.HasPrefix(err.Error(), "dial failed: "):
		msg = "could not connect to the SMTP server or log in: " + strings.TrimPrefix(err.Error(), "dial failed: ")
	default:
		msg = err.Error()
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return msg
}
