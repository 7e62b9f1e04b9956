package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/stocktrail/stocktrail/internal/fault"
)

// A webhook makes the server send requests to an address an admin typed, so
// it must not become a way into the server's own network (SSRF). The URL is
// checked when it is saved (its scheme, its host name and, when the name
// resolves, its addresses) and again for every connection, on the address
// actually dialled: a name that resolved to a public address at save time
// and to an internal one later (DNS rebinding) is refused then.
//
// Always refused: link-local addresses and the cloud metadata services
// (169.254.169.254, fd00:ec2::254, metadata.google.internal, ...), which no
// receiver lives on and which hand out credentials. Refused unless the
// operator allows private addresses (serve --webhook-allow-private):
// loopback, private (RFC 1918, fc00::/7), shared (100.64.0.0/10) and other
// special-purpose ranges.

// AddressPolicy says which addresses webhooks may reach.
type AddressPolicy struct {
	// AllowPrivate lets webhooks reach loopback and private addresses (a
	// receiver on the same host or network, and tests).
	AllowPrivate bool
}

// metadataHosts are names of cloud metadata services.
var metadataHosts = []string{
	"metadata", "metadata.google.internal", "metadata.goog", "metadata.azure.internal",
	"instance-data", "instance-data.ec2.internal", "metadata.platformequinix.com", "metadata.oraclecloud.com",
}

// metadataAddrs are cloud metadata addresses outside the link-local ranges
// (those inside are refused with them).
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

// specialPrefixes are special-purpose ranges that the netip predicates do
// not name, refused like private addresses.
var specialPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// refusedAddress says why a may not be reached, or "" when it may.
func (p AddressPolicy) refusedAddress(a netip.Addr) string {
	a = a.Unmap()
	for _, m := range metadataAddrs {
		if a == m {
			return "is a cloud metadata address"
		}
	}
	if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
		if a == netip.MustParseAddr("169.254.169.254") {
			return "is a cloud metadata address"
		}
		return "is a link-local address"
	}
	if p.AllowPrivate {
		return ""
	}
	switch {
	case a.IsLoopback():
		return "is a loopback address (this server itself)"
	case a.IsPrivate():
		return "is a private network address"
	case a.IsUnspecified(), a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "is not a unicast address"
	}
	for _, pfx := range specialPrefixes {
		if pfx.Contains(a) {
			return "is a special-purpose address"
		}
	}
	return ""
}

// maxURLLength bounds a webhook URL.
const maxURLLength = 2000

// CheckURL validates a webhook URL as it is saved and returns it cleaned
// up. Its errors name the field "url". A host name that resolves (within a
// couple of seconds) must resolve to allowed addresses only; one that does
// not resolve yet is accepted and checked at every connection.
func (p AddressPolicy) CheckURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fault.Field("url", "enter the address that receives the events, starting with https://")
	}
	if len(raw) > maxURLLength {
		return "", fault.Field("url", fmt.Sprintf("use an address of at most %d characters", maxURLLength))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fault.Field("url", "enter a web address such as https://siem.example.com/hooks/stocktrail")
	}
	host, err := p.checkStatic(u)
	if err != nil {
		return "", err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if why := p.refusedAddress(a); why != "" {
			return "", fault.Field("url", fmt.Sprintf("%s %s; webhooks may not reach it", host, why))
		}
		return u.String(), nil
	}
	lookup, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(lookup, "ip", host)
	if err != nil {
		// Not resolvable now (a receiver being set up, no DNS here):
		// every connection is checked anyway.
		return u.String(), nil
	}
	for _, a := range addrs {
		if why := p.refusedAddress(a); why != "" {
			return "", fault.Field("url", fmt.Sprintf("%s resolves to %s, which %s; webhooks may not reach it", host, a.Unmap(), why))
		}
	}
	return u.String(), nil
}

// checkStatic checks what can be checked without the network: scheme,
// host, no credentials, no metadata host name. It returns the host.
func (p AddressPolicy) checkStatic(u *url.URL) (string, error) {
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fault.Field("url", "use an http:// or https:// address")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return "", fault.Field("url", "enter a web address with a host name, such as https://siem.example.com/hooks")
	}
	if u.User != nil {
		return "", fault.Field("url", "leave the user name and password out of the address: it is shown on pages and in the activity log")
	}
	if u.Fragment != "" {
		return "", fault.Field("url", "leave out the #fragment: it is never sent to the receiver")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, m := range metadataHosts {
		if host == m {
			return "", fault.Field("url", host+" is a cloud metadata service; webhooks may not reach it")
		}
	}
	return host, nil
}

// errAddressRefused marks a connection refused by the policy.
var errAddressRefused = errors.New("address not allowed for webhooks")

// dialControl checks every address a delivery connects to, after name
// resolution (the DNS rebinding guard).
func (p AddressPolicy) dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errAddressRefused, address)
	}
	if why := p.refusedAddress(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s %s", errAddressRefused, ap.Addr().Unmap(), why)
	}
	return nil
}
