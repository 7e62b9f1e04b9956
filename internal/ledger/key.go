package ledger

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Key signs checkpoints. Only its public half (Verifier) is ever stored in
// the database: whoever can rewrite the database cannot sign for it.
type Key struct {
	signer note.Signer
	// Verifier is the C2SP verifier key ("name+hash+base64"), for auditors
	// to pin and for stocktrail verify --key.
	Verifier string
}

// Name is the key's name, as it appears in signature lines.
func (k *Key) Name() string { return k.signer.Name() }

// ParseKey reads a key file's text: the signing key ("PRIVATE+KEY+…") on
// its first line and its verifier key on the second.
func ParseKey(text string) (*Key, error) {
	lines := strings.Fields(text)
	if len(lines) != 2 {
		return nil, errors.New("a ledger key is two lines: the private signing key, then its verifier key")
	}
	signer, err := note.NewSigner(lines[0])
	if err != nil {
		return nil, fmt.Errorf("ledger signing key: %w", err)
	}
	verifier, err := note.NewVerifier(lines[1])
	if err != nil {
		return nil, fmt.Errorf("ledger verifier key: %w", err)
	}
	// The two halves must belong together: sign and check a probe.
	probe, err := note.Sign(&note.Note{Text: "stocktrail key check\n"}, signer)
	if err != nil {
		return nil, err
	}
	if _, err := note.Open(probe, note.VerifierList(verifier)); err != nil {
		return nil, errors.New("ledger key: the verifier key is not the signing key's")
	}
	return &Key{signer: signer, Verifier: lines[1]}, nil
}

// NewKey generates a key named name.
func NewKey(name string) (text string, key *Key, err error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", nil, err
	}
	text = skey + "\n" + vkey + "\n"
	key, err = ParseKey(text)
	return text, key, err
}

// LoadOrCreateKeyFile reads the key at path, generating one named name
// there (mode 0600) on first use.
func LoadOrCreateKeyFile(path, name string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return ParseKey(string(b))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read ledger key: %w", err)
	}
	text, key, err := NewKey(name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create ledger key: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return key, nil
}

// RotateKeyFile replaces the key at path with a new one named name, keeping
// the old file beside it as path.<n>.old, and returns the new key. Old
// checkpoints still verify: their verifier keys stay in the database.
func RotateKeyFile(path, name string) (*Key, error) {
	old, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ledger key: %w", err)
	}
	if _, err := ParseKey(string(old)); err != nil {
		return nil, err
	}
	for n := 1; ; n++ {
		keep := fmt.Sprintf("%s.%d.old", path, n)
		if _, err := os.Stat(keep); err == nil {
			continue
		}
		if err := os.WriteFile(keep, old, 0o600); err != nil {
			return nil, err
		}
		break
	}
	text, key, err := NewKey(name)
	if err != nil {
		return nil, err
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return key, nil
}

// verifiers builds a verifier list from verifier keys.
func verifiers(keys []string) (note.Verifiers, error) {
	var vs []note.Verifier
	for _, k := range keys {
		v, err := note.NewVerifier(strings.TrimSpace(k))
		if err != nil {
			return nil, fmt.Errorf("verifier key %q: %w", k, err)
		}
		vs = append(vs, v)
	}
	return note.VerifierList(vs...), nil
}

// checkpointBody is a C2SP tlog-checkpoint body: origin, tree size and
// base64 root hash, one per line.
func checkpointBody(origin string, size int64, root [32]byte) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%d\n%s\n", origin, size, encodeHash(root))
	return b.String()
}
