package idempotency

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Stored answers can hold secrets (a new API key or station token is shown
// once, in the answer that creates it) and request bodies can hold passwords,
// so the table keeps neither in a readable form: a row is found by a hash of
// the client's key, the request fingerprint is an HMAC and the answer is
// sealed with AES-256-GCM, both under a secret derived from the client's key,
// which is never stored. Whoever reads the database without knowing a key
// learns statuses, sizes, methods and paths, not bodies. This is only as
// strong as the keys are unguessable, which is why clients are told to use
// random keys (UUIDs).
type sealer struct {
	// id is what the row stores in idem_key.
	id     string
	secret []byte
}

// StoredKey is what the idempotency_keys.idem_key column holds for a
// client's key, for support staff looking a key up.
func StoredKey(key string) string {
	id := sha256.Sum256([]byte("stocktrail idempotency key id\x00" + key))
	return hex.EncodeToString(id[:])
}

func newSealer(s Scope) sealer {
	secret := sha256.Sum256(fmt.Appendf(nil, "stocktrail idempotency secret\x00%d\x00%s\x00%d\x00%s",
		s.WorkspaceID, s.ActorKind, s.ActorID, s.Key))
	return sealer{id: StoredKey(s.Key), secret: secret[:]}
}

// fingerprint identifies a request (method, path with query, body) for
// comparing a retry with the first attempt.
func (s sealer) fingerprint(method, target string, body []byte) string {
	m := hmac.New(sha256.New, s.secret)
	fmt.Fprintf(m, "%s\n%d:%s\n", method, len(target), target)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (s sealer) aead() cipher.AEAD {
	block, err := aes.NewCipher(s.secret)
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return gcm
}

// seal encrypts an answer body; the row's id is bound in as associated data
// so a sealed body cannot be moved to another row.
func (s sealer) seal(plain []byte) []byte {
	gcm := s.aead()
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plain)+gcm.Overhead())
	rand.Read(nonce)
	return gcm.Seal(nonce, nonce, plain, []byte(s.id))
}

func (s sealer) open(sealed []byte) ([]byte, error) {
	gcm := s.aead()
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("stored idempotent answer is truncated")
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(s.id))
	if err != nil {
		return nil, fmt.Errorf("open stored idempotent answer: %w", err)
	}
	return plain, nil
}
