package model

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/trustgate/trustgate/internal/envoyfmt"
	"github.com/trustgate/trustgate/internal/pembundle"
	"github.com/trustgate/trustgate/internal/re2size"
)

// Checks of single values shared by the kinds' validators. Each returns an
// error whose message completes "path: ".

// maxRegexLen is Istio's limit on a regex's length.
const maxRegexLen = 1024

// checkRegex checks an RE2 pattern as Envoy would: its syntax (Go's
// regexp/syntax parses RE2's syntax) and its RE2 program size, which Envoy
// compares with re2.max_program_size.error_level
// (source/common/common/regex.cc, CompiledGoogleReMatcher).
func checkRegex(re string) error {
	if re == "" {
		return errors.New("regex is empty")
	}
	if len(re) > maxRegexLen {
		return fmt.Errorf("regex is %d characters long; at most %d are allowed", len(re), maxRegexLen)
	}
	if _, err := regexp.Compile(re); err != nil {
		return fmt.Errorf("invalid regex: %v", err)
	}
	return checkRegexSize(re)
}

// checkRegexSize measures a valid pattern's RE2 program against the limit
// trustgate's bootstrap sets.
func checkRegexSize(re string) error { return re2size.Check(re, re2size.Limit) }

// withIgnoreURICase says that a size error is for the case-folded form.
func withIgnoreURICase(err error) error {
	var se *re2size.SizeError
	if errors.As(err, &se) && se.Size > 0 {
		return fmt.Errorf("regex has an RE2 program size of %d (with ignoreUriCase); Envoy accepts at most %d (runtime re2.max_program_size.error_level)", se.Size, se.Limit)
	}
	return fmt.Errorf("%w (with ignoreUriCase)", err)
}

// maxBodySize is the largest direct-response body accepted: Istio's limit
// (it sets max_direct_response_body_size_bytes to 1 MiB on every route
// configuration). Envoy keeps each body in memory.
const maxBodySize = 1 << 20

func checkBodySize(n int) error {
	if n > maxBodySize {
		return fmt.Errorf("body is %d bytes; at most %d are allowed (Istio's limit; Envoy holds direct-response bodies in memory)", n, maxBodySize)
	}
	return nil
}

// checkDuration parses Istio's duration forms ("1s", "500ms", "1m", "1h")
// and requires a positive value.
func checkDuration(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q (use a form like 500ms, 10s, 1m, 1h)", s)
	}
	if d <= 0 {
		return fmt.Errorf("duration %q must be positive", s)
	}
	return nil
}

// checkDNSName checks an exact DNS name: labels of 1-63 letters, digits and
// hyphens, not starting or ending with a hyphen; at most 253 characters.
func checkDNSName(name string) error {
	if name == "" {
		return errors.New("host is empty")
	}
	if len(name) > 253 {
		return fmt.Errorf("host %q is longer than 253 characters", name)
	}
	for label := range strings.SplitSeq(name, ".") { // no slice per host, on every load
		if err := checkDNSLabel(label); err != nil {
			return fmt.Errorf("host %q: %v", name, err)
		}
	}
	return nil
}

func checkDNSLabel(label string) error {
	if label == "" {
		return errors.New("empty DNS label")
	}
	if len(label) > 63 {
		return fmt.Errorf("DNS label %q is longer than 63 characters", label)
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(label)-1) {
			return fmt.Errorf("DNS label %q may hold only letters, digits and inner hyphens", label)
		}
	}
	return nil
}

// checkHost checks a host that may be "*", "*.suffix" or an exact DNS name.
// Envoy matches only whole-label suffix wildcards in server_names.
func checkHost(h string) error {
	switch {
	case h == "*":
		return nil
	case strings.HasPrefix(h, "*."):
		return checkDNSName(h[2:])
	case strings.Contains(h, "*"):
		return fmt.Errorf("host %q: a wildcard is allowed only as a whole first label (\"*.example.com\")", h)
	}
	return checkDNSName(h)
}

// checkGatewayHost checks a Gateway server host: an optional namespace
// prefix ("ns/", "*/", "./") and a host.
func checkGatewayHost(h string) error {
	if ns, host, ok := strings.Cut(h, "/"); ok {
		if ns != "*" && ns != "." {
			if err := checkDNSLabel(ns); err != nil {
				return fmt.Errorf("host %q: namespace: %v", h, err)
			}
		}
		h = host
	}
	return checkHost(h)
}

// hostCovers reports whether host (a VirtualService host) covers name (an
// SNI host): equal, or name falls under host's wildcard.
func hostCovers(host, name string) bool {
	host, name = strings.ToLower(host), strings.ToLower(name)
	switch {
	case host == "*" || host == name:
		return true
	case strings.HasPrefix(host, "*."):
		return strings.HasSuffix(name, host[1:])
	}
	return false
}

// checkIPOrCIDR parses "10.0.0.1" or "10.0.0.0/8".
func checkIPOrCIDR(s string) error {
	if strings.Contains(s, "/") {
		if _, err := netip.ParsePrefix(s); err != nil {
			return fmt.Errorf("%q is not a CIDR block", s)
		}
		return nil
	}
	if _, err := netip.ParseAddr(s); err != nil {
		return fmt.Errorf("%q is not an IP address or CIDR block", s)
	}
	return nil
}

// checkHeaderName checks an HTTP header name (an RFC 9110 token). Pseudo
// headers other than :authority are rejected: Envoy refuses to add or
// remove them, and Istio maps :authority to a host rewrite.
func checkHeaderName(name string) error {
	if name == "" {
		return errors.New("header name is empty")
	}
	if strings.HasPrefix(name, ":") {
		if strings.EqualFold(name, ":authority") {
			return nil
		}
		return fmt.Errorf("pseudo header %q cannot be used (only :authority)", name)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("header name %q has an invalid character %q", name, name[i])
		}
	}
	return nil
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// checkHeaderValue checks Envoy's %COMMAND% formatters in a header value:
// their syntax, and that each command is one Envoy knows (an unknown one
// makes Envoy reject the route configuration).
func checkHeaderValue(v string) error {
	if err := envoyfmt.Check(v); err != nil {
		return fmt.Errorf("header value %q: %w", v, err)
	}
	return nil
}

// checkSPKI checks a base64 SHA-256 SPKI pin: 44 characters, 32 bytes.
func checkSPKI(s string) error {
	b, err := base64.StdEncoding.DecodeString(s)
	if len(s) != 44 || err != nil || len(b) != 32 {
		return fmt.Errorf("%q is not a base64 SHA-256 hash (44 characters)", s)
	}
	return nil
}

// checkCertHash checks a hex SHA-256 certificate hash: 64 hex digits, or
// 95 characters with colons ("AB:CD:...").
func checkCertHash(s string) error {
	h := s
	if len(s) == 95 {
		h = strings.ReplaceAll(s, ":", "")
	}
	if _, err := hex.DecodeString(h); err != nil || len(h) != 64 {
		return fmt.Errorf("%q is not a hex SHA-256 hash (64 hex digits, or 95 characters with colons)", s)
	}
	return nil
}

// PEM block types trustgate expects in each role.
const (
	pemCert = pembundle.Cert
	pemKey  = pembundle.PKCS8Key // also "RSA PRIVATE KEY", "EC PRIVATE KEY"
	pemCRL  = pembundle.CRL
)

// checkPEM checks that b holds PEM blocks of the wanted type. Text around
// the blocks is allowed (openssl writes it); deep certificate checks are
// another package's job.
func checkPEM(b []byte, want string) error {
	blocks, _ := pembundle.Decode(b)
	for n, block := range blocks {
		ok := block.Type == want
		if want == pemKey {
			// openssl ecparam -genkey writes an EC PARAMETERS block
			// before the key; the key readers skip it.
			ok = strings.HasSuffix(block.Type, pemKey) || block.Type == pembundle.ECParams
		}
		if !ok {
			return fmt.Errorf("PEM block %d is %q; expected %q", n+1, block.Type, want)
		}
	}
	if len(blocks) == 0 {
		return fmt.Errorf("no PEM %q block found%s", want, derHint(b))
	}
	return nil
}
