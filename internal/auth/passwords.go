package auth

import (
	"strings"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"github.com/stocktrail/stocktrail/internal/fault"
)

// MinPasswordLength follows NIST SP 800-63B's floor for chosen passwords.
const MinPasswordLength = 10

// dummyHash makes a login for an unknown e-mail cost as much as a real one,
// so response times do not reveal which accounts exist.
const dummyHash = "$argon2id$v=19$m=65536,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$Dk8AqSgCEe5V7aTDN2Qfg8lhAy8a5s6RRtS0ErU0BxM"

func validatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return fault.Field("password", "must be at least 10 characters")
	case n > 256:
		return fault.Field("password", "must be at most 256 characters")
	case strings.TrimSpace(pw) == "":
		return fault.Field("password", "must not be blank")
	}
	return nil
}

func (s *Service) hashPassword(pw string) (string, error) {
	return argon2id.CreateHash(pw, s.Params)
}

func verifyPassword(pw, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

// GeneratePassword returns a strong random password (about 190 bits).
func GeneratePassword() string { return randomToken(24) }
