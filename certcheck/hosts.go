package certcheck

import (
	"crypto/x509"
	"net"
	"strings"
)

// normalizeHost lowercases a Gateway host and drops an Istio "namespace/"
// prefix and a trailing dot.
func normalizeHost(h string) string {
	if i := strings.LastIndexByte(h, '/'); i >= 0 {
		h = h[i+1:]
	}
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}

// covers reports whether the certificate's SANs cover a Gateway host, with
// the rules TLS clients apply (RFC 6125): a SAN "*.a.com" covers exactly one
// extra leftmost label ("x.a.com", not "a.com" nor "x.y.a.com"); a wildcard
// host "*.a.com" accepts any such name, so only the SAN "*.a.com" covers it;
// an IP host needs an IP SAN. The CN is never consulted.
func covers(c *x509.Certificate, host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		for _, san := range c.IPAddresses {
			if san.Equal(ip) {
				return true
			}
		}
		return false
	}
	for _, san := range c.DNSNames {
		if dnsMatches(strings.TrimSuffix(strings.ToLower(san), "."), host) {
			return true
		}
	}
	return false
}

// dnsMatches matches one lowercase DNS SAN against one lowercase host.
func dnsMatches(san, host string) bool {
	if san == host {
		return true // also "*.a.com" for the wildcard host "*.a.com"
	}
	suffix, ok := strings.CutPrefix(san, "*.")
	if !ok || suffix == "" || strings.HasPrefix(host, "*") {
		return false
	}
	label, rest, found := strings.Cut(host, ".")
	return found && label != "" && rest == suffix
}

// checkHosts reports the hosts the leaf does not cover; "*" (any host) is
// not checked: no certificate can cover it.
func checkHosts(leaf *x509.Certificate, hosts []string, file string) []Finding {
	var out []Finding
	sans := sanList(leaf)
	for _, raw := range hosts {
		host := normalizeHost(raw)
		if host == "" || host == "*" || covers(leaf, host) {
			continue
		}
		out = append(out, errorf(CodeSANMismatch, hostFix(host),
			"%s (%s) does not cover host %q%s: its SANs are %s. Clients fail with 'x509: certificate is valid for %s, not %s' (curl: 'no alternative certificate subject name matches target host name '%s''; browsers: NET::ERR_CERT_COMMON_NAME_INVALID).",
			file, describe(leaf), host, hostHint(leaf, host), sans, sans, host, host))
	}
	return out
}

// hostHint explains the wildcard rule a near miss broke.
func hostHint(leaf *x509.Certificate, host string) string {
	if suffix, ok := strings.CutPrefix(host, "*."); ok {
		for _, san := range leaf.DNSNames {
			if _, rest, _ := strings.Cut(strings.ToLower(san), "."); rest == suffix {
				return " (the host is a wildcard: it accepts every name under " + suffix + ", and only the SAN *." + suffix + " covers them all; " + san + " covers one)"
			}
		}
		return ""
	}
	for _, san := range leaf.DNSNames {
		suffix, ok := strings.CutPrefix(strings.ToLower(san), "*.")
		switch {
		case !ok:
		case host == suffix:
			return " (the wildcard SAN " + san + " does not cover the bare domain " + host + ")"
		case strings.HasSuffix(host, "."+suffix):
			return " (the wildcard SAN " + san + " covers exactly one label, not " + host + ")"
		}
	}
	return ""
}

func hostFix(host string) string {
	return "Re-issue the certificate with the SAN DNS:" + host +
		" (openssl: -addext 'subjectAltName=DNS:" + host + "'; trustgate certs issue server --host " + host +
		"), or serve this host from another server with its own certificate."
}

// sanList formats the DNS and IP SANs of a certificate.
func sanList(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return strings.Join(names, ", ")
}

// checkSANPresent reports a serving certificate without DNS or IP SANs.
func checkSANPresent(leaf *x509.Certificate, file string) []Finding {
	if len(leaf.DNSNames) > 0 || len(leaf.IPAddresses) > 0 {
		return nil
	}
	fix := "Re-issue it with subjectAltName entries for every host (openssl: -addext 'subjectAltName=DNS:example.com'; trustgate certs issue server --host example.com)."
	if leaf.Subject.CommonName == "" {
		return []Finding{errorf(CodeNoSAN, fix,
			"%s has no subject alternative name and no common name: clients fail with 'x509: certificate is not valid for any names'.", file)}
	}
	return []Finding{errorf(CodeNoSAN, fix,
		"%s (%s) has no subject alternative name, only the common name %q, which clients ignore: Go fails with 'x509: certificate relies on legacy Common Name field, use SANs instead', browsers with NET::ERR_CERT_COMMON_NAME_INVALID.",
		file, describe(leaf), leaf.Subject.CommonName)}
}
