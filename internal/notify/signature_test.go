package notify

import (
	"strings"
	"testing"
)

// The Standard Webhooks specification's published test vector.
func TestSignMatchesTheStandardWebhooksTestVector(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
	other, _ := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232315}`))
	if other == got {
		t.Fatal("a changed body signs the same")
	}
}

func TestNewSecretsAreWhsecAndDistinct(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSecret()
	if !strings.HasPrefix(a, "whsec_") || a == b {
		t.Fatalf("secrets %q, %q", a, b)
	}
	key, err := secretKey(a)
	if err != nil || len(key) != secretBytes {
		t.Fatalf("key of %q: %d bytes, %v", a, len(key), err)
	}
	if _, err := secretKey("whsec_not base64!"); err == nil {
		t.Fatal("a bad secret decoded")
	}
}
