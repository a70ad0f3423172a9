package xdstls

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ErrPlaintext is returned (wrapped) for plaintext xDS on an address other
// than loopback.
var ErrPlaintext = errors.New("plaintext xDS hands private keys to anyone who connects")

// CheckPlaintextAddr allows plaintext xDS only on a loopback listen address:
// an IP in 127.0.0.0/8 or ::1, or "localhost". An empty host listens on
// every interface and is refused, as is any other name.
func CheckPlaintextAddr(addr string) error {
	loopback, err := IsLoopback(addr)
	if err != nil {
		return fmt.Errorf("xDS address %q: %w", addr, err)
	}
	if loopback {
		return nil
	}
	host, _, _ := net.SplitHostPort(addr) // parsed by IsLoopback
	where := fmt.Sprintf("%q", host)
	if host == "" {
		where = "every interface"
	}
	return fmt.Errorf("%w: refusing to serve it on %s (%s); use --xds-cert, --xds-key and --xds-client-ca for mutual TLS, listen on loopback, or pass --insecure-xds",
		ErrPlaintext, where, addr)
}

// IsLoopback reports whether a listen address host:port is on loopback only:
// an IP in 127.0.0.0/8 or ::1, or "localhost".
func IsLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback(), nil
}
