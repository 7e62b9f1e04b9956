// Package idempotency owns safe retries of mutating API requests: the
// Idempotency-Key header, the idempotency_keys table (a 24-hour cache, not an
// audit log), and the HTTP middleware that executes a keyed request at most
// once per workspace, responsible party and key, replaying the first answer
// to every retry.
//
// Scanning stations, ERPs and scripts retry when an answer does not arrive.
// The answer may have been lost after the change committed, so remembering
// answers is not enough: the claim on the key must become "used" in the same
// transaction as the change. The middleware therefore
//
//  1. inserts a pending claim in its own short transaction (a second attempt
//     finds the row and is answered from it: replay, 409 in progress, 422
//     different request);
//  2. runs the handler with the claim bound to the request context through
//     store.WithBeforeCommit, so every store.DB.InTx of the request marks the
//     claim committed just before its COMMIT, atomically with the change, on
//     SQLite and PostgreSQL alike;
//  3. stores the buffered answer (done), or deletes the claim when the request
//     failed before anything committed, so the client can send a fix.
//
// A retry that finds a claim committed but not done, with a lapsed lease (the
// node died between COMMIT and storing the answer), is told the request was
// already applied instead of applying it again. A pending claim whose attempt died is taken
// over once its lease (renewed while the attempt runs) has lapsed, or at once
// when the process that held it has stopped (store.DB.Presence: on SQLite any
// process but this one, on PostgreSQL a session advisory lock that ends with
// its connection), or when it is this process's own and its attempt has
// ended without settling it (the database went away before the key could be
// released); the token in the row makes the stale attempt's COMMIT fail if
// it was only slow.
package idempotency

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/fault"
	"github.com/stocktrail/stocktrail/internal/store"
)

const (
	// Header is the request header that carries the client's key.
	Header = "Idempotency-Key"
	// ReplayedHeader marks an answer that was not produced by running the
	// request now.
	ReplayedHeader = "Idempotent-Replayed"
	// TTL is how long a key is remembered. After it, the same key is a new
	// request; Cleanup deletes older rows.
	TTL = 24 * time.Hour
	// MaxKeyLength is the longest key accepted.
	MaxKeyLength = 255
	// DefaultLease is how long a pending claim is honoured without renewal
	// before another attempt may take it over.
	DefaultLease = 30 * time.Second
	// DefaultMaxBodyBytes caps a keyed request body, which is read whole to
	// hash it before the handler runs (file imports included).
	DefaultMaxBodyBytes = 32 << 20
)

// Config holds what a Keeper needs.
type Config struct {
	DB     *store.DB
	Logger *slog.Logger
	// Fail writes an error answer (problem+json on the API). Without it, a
	// plain-text error is written.
	Fail func(w http.ResponseWriter, r *http.Request, err error)
	// Lease is DefaultLease when zero. Running attempts renew it every third
	// of it, so it only has to outlast a stall, not a long request.
	Lease time.Duration
	// MaxBodyBytes is DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// Now is time.Now when nil (tests move the clock).
	Now func() time.Time
}

// Keeper runs keyed requests at most once.
type Keeper struct {
	cfg Config
	// instance tells this Keeper's claims from those of other Keepers of
	// the process (tests run several): a claim's owner is the process's
	// presence token, "#", and instance.
	instance string
	// running holds the tokens of this Keeper's claims whose attempts are
	// running, from Begin to Finish. A claim of this Keeper's that is not
	// among them belongs to an attempt that ended without settling it (the
	// database went away before it could release the key): it is taken
	// over at once rather than refused with 409 until its lease lapses.
	mu      sync.Mutex
	running map[string]struct{}
}

// New returns a Keeper.
func New(cfg Config) *Keeper {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Keeper{cfg: cfg, instance: newToken()[:8], running: map[string]struct{}{}}
}

// presenceOf is the process part of a claim's owner.
func presenceOf(owner string) string {
	process, _, _ := strings.Cut(owner, "#")
	return process
}

// started and ended keep Keeper.running.
func (k *Keeper) started(token string) {
	k.mu.Lock()
	k.running[token] = struct{}{}
	k.mu.Unlock()
}

func (k *Keeper) ended(token string) {
	k.mu.Lock()
	delete(k.running, token)
	k.mu.Unlock()
}

func (k *Keeper) isRunning(token string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.running[token]
	return ok
}

// ValidKey checks a key: 1 to 255 printable ASCII characters.
func ValidKey(key string) error {
	if key == "" || len(key) > MaxKeyLength {
		return fault.New(fault.Malformed, "the %s header must be 1 to %d printable ASCII characters long", Header, MaxKeyLength)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return fault.New(fault.Malformed, "the %s header may hold only printable ASCII characters (byte %d is not)", Header, i+1)
		}
	}
	return nil
}

// Scope is whose key it is: the same key string of two parties, or of one
// party in two workspaces, names two different requests.
type Scope struct {
	WorkspaceID int64
	ActorKind   actor.Kind
	ActorID     int64
	Key         string
}

// Request describes the attempt that wants the claim.
type Request struct {
	Method string
	// Target is the path with its query, as the client sent it.
	Target string
	// Body is the whole request body; only a keyed fingerprint is kept.
	Body      []byte
	RequestID string
}

// Prior is what an earlier attempt with the same key left behind.
type Prior struct {
	Key       string
	RequestID string
	// Done is true when its answer is stored in Status, ContentType, Body;
	// otherwise its change committed but its answer was lost.
	Done        bool
	Status      int
	ContentType string
	Body        []byte
	CommittedAt time.Time
}

// Claim is an attempt's hold on a key.
type Claim struct {
	k     *Keeper
	scope Scope
	seal  sealer
	token string
}

// Begin claims scope.Key for req. It returns either a claim (run the request,
// then Finish) or the prior attempt's outcome to answer with instead. A key
// used for another request is an Invalid (422) error; one whose first
// attempt is still running is a Conflict (409) with a Retry-After hint.
func (k *Keeper) Begin(ctx context.Context, scope Scope, req Request) (*Claim, *Prior, error) {
	if err := ValidKey(scope.Key); err != nil {
		return nil, nil, err
	}
	seal := newSealer(scope)
	process, err := k.cfg.DB.Presence(ctx)
	if err != nil {
		return nil, nil, err
	}
	owner := process + "#" + k.instance
	pk := []any{scope.WorkspaceID, string(scope.ActorKind), scope.ActorID, seal.id}
	fingerprint := seal.fingerprint(req.Method, req.Target, req.Body)
	// A few rounds: the row may vanish (released, expired) or be taken over
	// between our statements; each round starts from what is there now.
	for range 5 {
		now := k.cfg.Now()
		token := newToken()
		res, err := k.cfg.DB.Exec(ctx, `INSERT INTO idempotency_keys (workspace_id, actor_kind, actor_id, idem_key,
			request_hash, method, path, state, token, request_id, created_at, claimed_at, owner)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $10, $11)
			ON CONFLICT (workspace_id, actor_kind, actor_id, idem_key) DO NOTHING`,
			append(pk, fingerprint, req.Method, truncate(req.Target, 2000), token, truncate(req.RequestID, 64), store.Micros(now), owner)...)
		if err != nil {
			return nil, nil, fmt.Errorf("claim idempotency key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, nil, err
		} else if n == 1 {
			k.started(token)
			return &Claim{k: k, scope: scope, seal: seal, token: token}, nil, nil
		}

		var (
			hash, method, path, state, oldToken, requestID, oldOwner string
			status                                                   sql.NullInt64
			contentType                                              sql.NullString
			body                                                     []byte
			createdAt, claimedAt                                     int64
			committedAt                                              sql.NullInt64
		)
		err = k.cfg.DB.Read().QueryRowContext(ctx, `SELECT request_hash, method, path, state, token, request_id,
			status, content_type, body, created_at, claimed_at, committed_at, owner
			FROM idempotency_keys WHERE workspace_id = $1 AND actor_kind = $2 AND actor_id = $3 AND idem_key = $4`, pk...).
			Scan(&hash, &method, &path, &state, &oldToken, &requestID, &status, &contentType, &body, &createdAt, &claimedAt, &committedAt, &oldOwner)
		if errors.Is(err, sql.ErrNoRows) {
			continue // released in between: claim it afresh
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read idempotency key: %w", err)
		}
		if store.Time(createdAt).Before(now.Add(-TTL)) {
			// Expired: the key names a new request now. Delete exactly the
			// row we saw, so a concurrent fresh claim is not lost.
			if _, err := k.cfg.DB.Exec(ctx, `DELETE FROM idempotency_keys WHERE workspace_id = $1 AND actor_kind = $2
				AND actor_id = $3 AND idem_key = $4 AND token = $5`, append(pk, oldToken)...); err != nil {
				return nil, nil, fmt.Errorf("expire idempotency key: %w", err)
			}
			continue
		}
		if hash != fingerprint {
			return nil, nil, &fault.Error{Kind: fault.Invalid,
				Message: fmt.Sprintf("this %s was already used for a different request (%s %s, first sent %s); "+
					"a retry must repeat the same method, path and body, and a new request needs a new key",
					Header, method, path, store.Time(createdAt).Format(time.RFC3339)),
				Fields: map[string]string{Header: "already used for a different request"}}
		}
		if state == "done" {
			plain, err := seal.open(body)
			if err != nil {
				return nil, nil, err
			}
			return nil, &Prior{Key: scope.Key, RequestID: requestID, Done: true, Status: int(status.Int64),
				ContentType: contentType.String, Body: plain, CommittedAt: store.NullTime(committedAt)}, nil
		}
		// A live attempt renews its lease until it has stored its answer, so
		// a fresh lease means "wait for it", committed or not, unless the
		// process that holds it has stopped (a crash or restart): then
		// nothing will renew or finish it, and waiting out the lease only
		// turns the client's retries away.
		if !store.Time(claimedAt).Before(now.Add(-k.cfg.Lease)) {
			alive := true
			switch {
			case oldOwner == owner:
				// Ours: alive while its attempt runs here.
				alive = k.isRunning(oldToken)
			case oldOwner != "":
				if alive, err = k.cfg.DB.Present(ctx, presenceOf(oldOwner)); err != nil {
					return nil, nil, err
				}
			}
			if alive {
				return nil, nil, &fault.Error{Kind: fault.Conflict, RetryAfter: 1,
					Message: fmt.Sprintf("a request with this %s is still being processed; retry shortly to get its answer", Header)}
			}
		}
		if state == "committed" {
			// Its change committed, then its attempt died before storing the
			// answer: the answer is lost, the change must not be repeated.
			return nil, &Prior{Key: scope.Key, RequestID: requestID, CommittedAt: store.NullTime(committedAt)}, nil
		}
		// The attempt holding the claim stopped renewing it: it died. Take the
		// claim over; changing the token makes its commit fail if it lives.
		res, err = k.cfg.DB.Exec(ctx, `UPDATE idempotency_keys SET token = $5, claimed_at = $6, request_id = $7, owner = $9
			WHERE workspace_id = $1 AND actor_kind = $2 AND actor_id = $3 AND idem_key = $4 AND token = $8 AND state = 'pending'`,
			append(pk, token, store.Micros(now), truncate(req.RequestID, 64), oldToken, owner)...)
		if err != nil {
			return nil, nil, fmt.Errorf("take over idempotency key: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			// The client's key is the secret the stored answer is sealed
			// with, so only its stored hash is logged.
			k.cfg.Logger.WarnContext(ctx, "took over a stale idempotency claim", "idem_key", seal.id[:16],
				"previous_request_id", requestID)
			k.started(token)
			return &Claim{k: k, scope: scope, seal: seal, token: token}, nil, nil
		}
	}
	return nil, nil, &fault.Error{Kind: fault.Conflict, RetryAfter: 1,
		Message: fmt.Sprintf("a request with this %s is changing state right now; retry shortly", Header)}
}

func (c *Claim) pk() []any {
	return []any{c.scope.WorkspaceID, string(c.scope.ActorKind), c.scope.ActorID, c.seal.id, c.token}
}

const whereClaim = `workspace_id = $1 AND actor_kind = $2 AND actor_id = $3 AND idem_key = $4 AND token = $5`

// Bind returns ctx under which every store transaction marks the claim
// committed just before its COMMIT. If the claim was taken over (this attempt
// was presumed dead), the transaction fails instead, so the change can never
// be applied by two attempts.
func (c *Claim) Bind(ctx context.Context) context.Context {
	return store.WithBeforeCommit(ctx, c.markCommitted)
}

func (c *Claim) markCommitted(ctx context.Context, tx *store.Tx) error {
	res, err := tx.ExecContext(ctx, `UPDATE idempotency_keys
		SET state = CASE WHEN state = 'pending' THEN 'committed' ELSE state END,
		    committed_at = COALESCE(committed_at, $6), claimed_at = $6
		WHERE `+whereClaim, append(c.pk(), store.Micros(c.k.cfg.Now()))...)
	if err != nil {
		return fmt.Errorf("mark idempotency key committed: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return &fault.Error{Kind: fault.Conflict, RetryAfter: 1,
			Message: fmt.Sprintf("this attempt lost its %s claim to a retry, so nothing was changed; retry to get the result", Header)}
	}
	return nil
}

// keepAlive renews the claim's lease until the returned stop is called, so
// that a long request is not mistaken for a dead one, before or after its
// commit, until its answer is stored.
func (c *Claim) keepAlive(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(c.k.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := c.k.cfg.DB.Exec(ctx, `UPDATE idempotency_keys SET claimed_at = $6 WHERE `+whereClaim+` AND state IN ('pending', 'committed')`,
					append(c.pk(), store.Micros(c.k.cfg.Now()))...); err != nil && ctx.Err() == nil {
					c.k.cfg.Logger.WarnContext(ctx, "renew idempotency claim", "err", err)
				}
			}
		}
	})
	var once sync.Once
	return func() { once.Do(func() { cancel(); wg.Wait() }) }
}

// Response is an answer to store for replay.
type Response struct {
	Status      int
	ContentType string
	Body        []byte
}

// Finish settles the claim after the request ran. A success is stored for
// replay. A failure before anything committed releases the key, so the
// client may send a corrected request with it. A client error after a commit
// is stored like a success (it is the answer); a server error after a commit
// is not, so a retry hears that the request was applied rather than a stale
// 5xx that invites yet another attempt.
func (c *Claim) Finish(ctx context.Context, resp Response) error {
	// Whatever happens here, the attempt is over: a claim it could not
	// settle is free to be taken over.
	defer c.k.ended(c.token)
	// The client may have gone away; the bookkeeping must still happen.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if resp.Status >= 400 {
		res, err := c.k.cfg.DB.Exec(ctx, `DELETE FROM idempotency_keys WHERE `+whereClaim+` AND state = 'pending'`, c.pk()...)
		if err != nil {
			return fmt.Errorf("release idempotency key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 || resp.Status >= 500 {
			return nil
		}
	}
	_, err := c.k.cfg.DB.Exec(ctx, `UPDATE idempotency_keys SET state = 'done', status = $6, content_type = $7, body = $8,
		completed_at = $9 WHERE `+whereClaim+` AND state IN ('pending', 'committed')`,
		append(c.pk(), resp.Status, resp.ContentType, c.seal.seal(resp.Body), store.Micros(c.k.cfg.Now()))...)
	if err != nil {
		return fmt.Errorf("store idempotent answer: %w", err)
	}
	return nil
}

// Cleanup deletes keys older than TTL as of now and reports how many.
// Expired rows are already ignored by Begin; this only reclaims space.
func Cleanup(ctx context.Context, db *store.DB, now time.Time) (int64, error) {
	res, err := db.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, store.Micros(now.Add(-TTL)))
	if err != nil {
		return 0, fmt.Errorf("clean up idempotency keys: %w", err)
	}
	return res.RowsAffected()
}

// CleanupEvery runs Cleanup every interval until ctx ends. Deleting expired
// rows is harmless to repeat, so every node may run it until background work
// moves to one elected node.
func CleanupEvery(ctx context.Context, db *store.DB, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := Cleanup(ctx, db, now); err != nil && ctx.Err() == nil {
				logger.WarnContext(ctx, "idempotency cleanup", "err", err)
			} else if n > 0 {
				logger.InfoContext(ctx, "idempotency cleanup", "deleted", n)
			}
		}
	}
}

// Middleware makes keyed POST, PUT, PATCH and DELETE requests idempotent. It
// must run after authentication, because keys belong to the responsible
// party; requests without the header, other methods and anonymous requests
// pass through untouched (nothing is buffered for them, so streamed GET
// downloads stay streamed).
func (k *Keeper) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values, present := r.Header[Header]
		if !present || !mutating(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		if len(values) != 1 {
			k.fail(w, r, fault.New(fault.Malformed, "send exactly one %s header", Header))
			return
		}
		key := values[0]
		if err := ValidKey(key); err != nil {
			k.fail(w, r, err)
			return
		}
		a, ok := actor.From(r.Context())
		if !ok {
			next.ServeHTTP(w, r) // the endpoint refuses or does not need a party
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, k.cfg.MaxBodyBytes+1))
		if err != nil {
			k.fail(w, r, fault.New(fault.Malformed, "could not read the request body"))
			return
		}
		if int64(len(body)) > k.cfg.MaxBodyBytes {
			k.fail(w, r, fault.New(fault.TooLarge, "a request with an %s may carry at most %d bytes", Header, k.cfg.MaxBodyBytes))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		target := r.URL.RequestURI()
		req := Request{Method: r.Method, Target: target, Body: body, RequestID: actor.RequestFrom(r.Context()).RequestID}
		claim, prior, err := k.Begin(r.Context(), Scope{WorkspaceID: a.WorkspaceID, ActorKind: a.Kind, ActorID: a.ID, Key: key}, req)
		if err != nil {
			k.fail(w, r, err)
			return
		}
		if prior != nil {
			prior.write(w)
			return
		}
		k.run(claim, next, w, r)
	})
}

func (k *Keeper) run(claim *Claim, next http.Handler, w http.ResponseWriter, r *http.Request) {
	ctx := claim.Bind(r.Context())
	stop := claim.keepAlive(ctx)
	rec := &recorder{under: w}
	finished := false
	defer func() {
		stop()
		if !finished { // the handler panicked: settle as a server error, then let recovery answer
			if err := claim.Finish(ctx, Response{Status: http.StatusInternalServerError}); err != nil {
				k.cfg.Logger.ErrorContext(ctx, "settle idempotency key after panic", "err", err)
			}
		}
	}()
	next.ServeHTTP(rec, r.WithContext(ctx))
	stop()
	resp := rec.response()
	if err := claim.Finish(ctx, resp); err != nil {
		// The answer still goes out; a retry will hear "already applied"
		// (or run again if nothing committed).
		k.cfg.Logger.ErrorContext(ctx, "settle idempotency key", "err", err)
	}
	finished = true
	w.WriteHeader(resp.Status)
	w.Write(resp.Body)
}

func (k *Keeper) fail(w http.ResponseWriter, r *http.Request, err error) {
	if k.cfg.Fail != nil {
		k.cfg.Fail(w, r, err)
		return
	}
	if e, ok := fault.As(err); ok && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	http.Error(w, fault.PublicMessage(err), fault.HTTPStatus(fault.KindOf(err)))
}

// AppliedAnswer is the body of the answer to a retry whose first attempt
// committed but whose answer was lost.
type AppliedAnswer struct {
	Status         string    `json:"status"`
	Detail         string    `json:"detail"`
	IdempotencyKey string    `json:"idempotency_key"`
	RequestID      string    `json:"request_id,omitempty"`
	AppliedAt      time.Time `json:"applied_at"`
}

func (p *Prior) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set(ReplayedHeader, "true")
	h.Set("Cache-Control", "no-store")
	if p.Done {
		if p.ContentType != "" {
			h.Set("Content-Type", p.ContentType)
		}
		w.WriteHeader(p.Status)
		w.Write(p.Body)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(AppliedAnswer{Status: "already_applied", IdempotencyKey: p.Key, RequestID: p.RequestID,
		AppliedAt: p.CommittedAt,
		Detail: "this request was already applied; its original answer was lost before it could be stored, " +
			"so it is not repeated here. Read the affected records to see the result; do not send the request again with a new key."})
}

// recorder buffers the handler's answer so it can be stored before it is
// sent. Headers go straight to the real writer's map (still unsent).
type recorder struct {
	under  http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.under.Header() }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// FlushError keeps http.ResponseController from flushing the real writer
// early: the answer is sent only once it is stored.
func (r *recorder) FlushError() error { return nil }

// Unwrap lets http.ResponseController reach deadlines on the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.under }

func (r *recorder) response() Response {
	resp := Response{Status: r.status, ContentType: r.under.Header().Get("Content-Type"), Body: r.body.Bytes()}
	if resp.Status == 0 {
		resp.Status = http.StatusOK
	}
	if resp.ContentType == "" && len(resp.Body) > 0 {
		resp.ContentType = http.DetectContentType(resp.Body)
		r.under.Header().Set("Content-Type", resp.ContentType)
	}
	return resp
}

func mutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
