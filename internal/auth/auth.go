// Package auth owns the identities that act in stocktrail: users with their
// roles and passwords, web sessions, API keys and scanning stations, the
// throttling of failed logins, and turning a presented credential into the
// one responsible party (an actor.Actor) of a request.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/stocktrail/stocktrail/internal/store"
)

// Service is the auth area. Its zero Now and Params are filled by New.
type Service struct {
	DB *store.DB
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// Params are the Argon2id parameters for new password hashes.
	Params *argon2id.Params
	// SessionIdle and SessionMax bound a web session's life.
	SessionIdle, SessionMax time.Duration
}

// New returns a Service with production defaults.
func New(db *store.DB) *Service {
	return &Service{
		DB:          db,
		Now:         time.Now,
		Params:      argon2id.DefaultParams,
		SessionIdle: 12 * time.Hour,
		SessionMax:  7 * 24 * time.Hour,
	}
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the OS has no entropy: nothing is safe
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how session cookies, API keys and station tokens are stored:
// a fast hash is right for 256-bit random secrets (no guessing to slow down).
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Credential prefixes tell API keys and station tokens apart at a glance and
// let secret scanners recognise them.
const (
	apiKeyPrefix  = "stk_"
	stationPrefix = "sts_"
)

// newSecret returns a credential "<kind><id>_<secret>" and its display prefix.
func newSecret(kind string) (secret, prefix string) {
	id := strings.ToLower(randomToken(6))
	id = strings.NewReplacer("-", "x", "_", "y").Replace(id)
	return kind + id + "_" + randomToken(32), kind + id
}
