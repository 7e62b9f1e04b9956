package notify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/fault"
)

func TestCheckURLRefusesWhatWebhooksMayNotReach(t *testing.T) {
	ctx := context.Background()
	strict := AddressPolicy{}
	open := AddressPolicy{AllowPrivate: true}
	for _, c := range []struct {
		url    string
		policy AddressPolicy
		why    string
	}{
		{"", strict, "enter the address"},
		{"ftp://files.example.com/drop", strict, "http:// or https://"},
		{"file:///etc/passwd", open, "http:// or https://"},
		{"javascript:alert(1)", open, "http:// or https://"},
		{"https://", strict, "host name"},
		{"https://user:pw@siem.example.com/", strict, "user name and password"},
		{"http://169.254.169.254/latest/meta-data/", open, "cloud metadata"},
		{"http://[fd00:ec2::254]/latest/", open, "cloud metadata"},
		{"http://metadata.google.internal/computeMetadata/v1/", open, "cloud metadata"},
		{"http://METADATA.google.internal./x", open, "cloud metadata"},
		{"http://169.254.10.1/", open, "link-local"},
		{"http://[fe80::1]/", open, "link-local"},
		{"http://127.0.0.1:9000/", strict, "loopback"},
		{"http://[::1]/", strict, "loopback"},
		{"http://[::ffff:127.0.0.1]/", strict, "loopback"},
		{"http://10.1.2.3/", strict, "private"},
		{"http://192.168.1.10/", strict, "private"},
		{"http://[fd12::1]/", strict, "private"},
		{"http://100.64.0.1/", strict, "special-purpose"},
		{"http://0.0.0.0/", strict, "unicast"},
		{"http://localhost:8080/hook", strict, "resolves to 127.0.0.1"},
		{"https://siem.example.com/" + strings.Repeat("a", maxURLLength), strict, "at most"},
	} {
		_, err := c.policy.CheckURL(ctx, c.url)
		e, ok := fault.As(err)
		if !ok || e.Kind != fault.Invalid || e.Fields["url"] == "" || !strings.Contains(e.Fields["url"], c.why) {
			t.Errorf("%q (allow private %v): %v, want a url field error saying %q", c.url, c.policy.AllowPrivate, err, c.why)
		}
	}
	for _, c := range []struct {
		url    string
		policy AddressPolicy
	}{
		{"https://siem.example.com/hooks/stocktrail", strict},
		{"http://93.184.215.14:8080/in", strict},
		{"http://127.0.0.1:9000/hook", open},
		{"http://10.1.2.3/hook", open},
		{"http://localhost:8080/hook", open},
	} {
		if _, err := c.policy.CheckURL(ctx, c.url); err != nil {
			t.Errorf("%q (allow private %v) refused: %v", c.url, c.policy.AllowPrivate, err)
		}
	}
}

// TestConnectionsAreCheckedOnTheDialledAddress: a URL saved while it
// pointed elsewhere (DNS rebinding) is refused at connect time.
func TestConnectionsAreCheckedOnTheDialledAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	client := newHTTPClient(AddressPolicy{}, 2*time.Second)
	// A host name resolving to loopback, as a rebinding name would after
	// the check at save time.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	_, err := client.Get("http://localhost:" + port + "/")
	if !errors.Is(err, errAddressRefused) {
		t.Fatalf("loopback connection: %v, want refused", err)
	}
	allowed := newHTTPClient(AddressPolicy{AllowPrivate: true}, 2*time.Second)
	resp, err := allowed.Get("http://localhost:" + port + "/")
	if err != nil {
		t.Fatalf("with private addresses allowed: %v", err)
	}
	resp.Body.Close()
}
