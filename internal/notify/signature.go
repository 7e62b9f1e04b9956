package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Deliveries are signed the Standard Webhooks way (standardwebhooks.com):
// the headers webhook-id, webhook-timestamp (Unix seconds) and
// webhook-signature, which is "v1," followed by the base64 HMAC-SHA256 of
// "id.timestamp.body" under the endpoint's secret. The secret is "whsec_"
// followed by the base64 of its bytes. No maintained Go library of the
// convention is available to this build, so it is written here from the
// specification and tested against its published test vector.

const secretPrefix = "whsec_"

// secretBytes is the length of a new endpoint secret (the specification
// asks for 24 to 64 bytes).
const secretBytes = 32

// NewSecret returns a new random signing secret in the whsec_ form.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook secret is not a whsec_ base64 secret")
	}
	return key, nil
}

// Sign returns the webhook-signature header value for one message.
func Sign(secret, messageID string, timestamp int64, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(messageID))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
