package envoymodel

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// format is a parsed substitution format string
// (source/common/formatter/substitution_formatter.h, FormatterImpl):
// literal text and %COMMAND(arg):len% commands, "%%" a literal %.
type format struct {
	parts []formatPart
}

// formatPart is a literal (cmd == "") or a command.
type formatPart struct {
	literal string
	cmd     string
	arg     string
	maxLen  int // 0: no limit
}

// formatContext is what commands read.
type formatContext struct {
	conn    *Connection
	peer    *peerCert // nil: no certificate presented
	tls     bool
	sni     string
	headers *headerMap
	version string
	// protocol is the HTTP protocol ("HTTP/1.1" or "HTTP/2").
	protocol string
	// local is the address the client connected to.
	local netip.Addr
}

// commands are the substitution commands the model evaluates
// (source/common/formatter/stream_info_formatter.cc). A command Envoy knows
// but the model does not is refused by compileFormat, as is an unknown one
// (Envoy's SubstitutionFormatParser fails the whole update on those).
var commands = map[string]func(c *formatContext, arg string) (string, bool){
	"DOWNSTREAM_PEER_SUBJECT":         peerField(func(p *peerCert) string { return p.subject }),
	"DOWNSTREAM_PEER_ISSUER":          peerField(func(p *peerCert) string { return p.issuer }),
	"DOWNSTREAM_PEER_URI_SAN":         peerField(func(p *peerCert) string { return strings.Join(p.uris, ",") }),
	"DOWNSTREAM_PEER_DNS_SAN":         peerField(func(p *peerCert) string { return strings.Join(p.dns, ",") }),
	"DOWNSTREAM_PEER_IP_SAN":          peerField(func(p *peerCert) string { return strings.Join(p.ips, ",") }),
	"DOWNSTREAM_PEER_EMAIL_SAN":       peerField(func(p *peerCert) string { return strings.Join(p.emails, ",") }),
	"DOWNSTREAM_PEER_FINGERPRINT_256": peerField(func(p *peerCert) string { return p.sha256 }),
	"DOWNSTREAM_PEER_FINGERPRINT_1":   peerField(func(p *peerCert) string { return p.sha1 }),
	"DOWNSTREAM_PEER_SERIAL":          peerField(func(p *peerCert) string { return p.serial }),
	"DOWNSTREAM_PEER_CERT":            peerField(func(p *peerCert) string { return p.urlPEM }),
	"DOWNSTREAM_TLS_VERSION":          tlsField(func(c *formatContext) string { return c.version }),
	"REQUESTED_SERVER_NAME":           func(c *formatContext, _ string) (string, bool) { return c.sni, c.sni != "" },
	"DOWNSTREAM_REMOTE_ADDRESS":       addrField(func(c *Connection) (netip.Addr, uint32) { return c.SourceIP, uint32(c.SourcePort) }, true),
	"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": addrField(func(c *Connection) (netip.Addr, uint32) {
		return c.SourceIP, 0
	}, false),
	"DOWNSTREAM_DIRECT_REMOTE_ADDRESS": addrField(func(c *Connection) (netip.Addr, uint32) { return c.SourceIP, uint32(c.SourcePort) }, true),
	"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT": addrField(func(c *Connection) (netip.Addr, uint32) {
		return c.SourceIP, 0
	}, false),
	"DOWNSTREAM_LOCAL_ADDRESS": func(c *formatContext, _ string) (string, bool) {
		if !c.local.IsValid() {
			return "", false
		}
		return netip.AddrPortFrom(c.local, uint16(c.conn.Port)).String(), true
	},
	"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT": func(c *formatContext, _ string) (string, bool) {
		return c.local.String(), c.local.IsValid()
	},
	"PROTOCOL": func(c *formatContext, _ string) (string, bool) { return c.protocol, c.protocol != "" },
	"DOWNSTREAM_LOCAL_PORT": func(c *formatContext, _ string) (string, bool) {
		return strconv.FormatUint(uint64(c.conn.Port), 10), true
	},
	"REQ": func(c *formatContext, arg string) (string, bool) {
		name, alt, _ := strings.Cut(arg, "?")
		if v, ok := c.headers.get(name); ok {
			return v, true
		}
		if alt != "" {
			return c.headers.get(alt)
		}
		return "", false
	},
}

// peerField reads a peer certificate field; nothing without a certificate
// or when the field is empty (StreamInfoSslConnectionInfoFormatterProvider).
func peerField(f func(*peerCert) string) func(*formatContext, string) (string, bool) {
	return func(c *formatContext, _ string) (string, bool) {
		if c.peer == nil {
			return "", false
		}
		v := f(c.peer)
		return v, v != ""
	}
}

// tlsField reads a TLS connection field; nothing on plaintext.
func tlsField(f func(*formatContext) string) func(*formatContext, string) (string, bool) {
	return func(c *formatContext, _ string) (string, bool) {
		if !c.tls {
			return "", false
		}
		return f(c), true
	}
}

// addrField prints an address, with the port when withPort.
func addrField(f func(*Connection) (netip.Addr, uint32), withPort bool) func(*formatContext, string) (string, bool) {
	return func(c *formatContext, _ string) (string, bool) {
		a, p := f(c.conn)
		if !a.IsValid() {
			return "", false
		}
		if withPort {
			return netip.AddrPortFrom(a, uint16(p)).String(), true
		}
		return a.String(), true
	}
}

// compileFormat parses a format string once.
func (m *Model) compileFormat(s string) error {
	if m.compiledFormat(s) != nil {
		return nil
	}
	f, err := parseFormat(s)
	if err != nil {
		return err
	}
	m.compiled.Lock()
	m.formats[s] = f
	m.compiled.Unlock()
	return nil
}

// compiledFormat is the format compileFormat parsed, nil if none.
func (m *Model) compiledFormat(s string) *format {
	m.compiled.RLock()
	defer m.compiled.RUnlock()
	return m.formats[s]
}

// parseFormat splits a format string into literals and commands.
func parseFormat(s string) (*format, error) {
	f := &format{}
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		p, end, err := parseCommand(s, i+1)
		if err != nil {
			return nil, fmt.Errorf("format %q: %w", s, err)
		}
		if lit.Len() > 0 {
			f.parts = append(f.parts, formatPart{literal: lit.String()})
			lit.Reset()
		}
		f.parts = append(f.parts, p)
		i = end
	}
	if lit.Len() > 0 {
		f.parts = append(f.parts, formatPart{literal: lit.String()})
	}
	return f, nil
}

// parseCommand parses COMMAND(arg):len% from s[start:], returning the
// index of the closing %.
func parseCommand(s string, start int) (formatPart, int, error) {
	i := start
	for i < len(s) && (s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
		i++
	}
	p := formatPart{cmd: s[start:i]}
	if p.cmd == "" {
		return p, 0, errors.New("'%' starts no command (Envoy rejects it; write %% for a literal %)")
	}
	if i < len(s) && s[i] == '(' {
		end := strings.IndexByte(s[i:], ')')
		if end < 0 {
			return p, 0, fmt.Errorf("%%%s( is not closed", p.cmd)
		}
		p.arg = s[i+1 : i+end]
		i += end + 1
	}
	if i < len(s) && s[i] == ':' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(s[i+1 : j])
		if err != nil {
			return p, 0, fmt.Errorf("%%%s: bad length", p.cmd)
		}
		p.maxLen, i = n, j
	}
	if i >= len(s) || s[i] != '%' {
		return p, 0, fmt.Errorf("%%%s is not closed by %%", p.cmd)
	}
	if p.cmd == "REQ" && p.arg == "" {
		return p, 0, fmt.Errorf("%%REQ%% needs a header name: REQ(<header-name>)")
	}
	if _, ok := commands[p.cmd]; !ok {
		return p, 0, unsupported("command %%%s%% (the model implements %s; Envoy rejects unknown commands)", p.cmd, strings.Join(commandNames(), ", "))
	}
	return p, i, nil
}

// commandNames lists the implemented commands.
func commandNames() []string {
	var out []string
	for k := range commands {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// eval formats with omit_empty_values set: a command with no value yields
// "" (header values are always formatted so, HeaderParser's
// parseHttpHeaderFormatter passes omit_empty_values=true).
func (f *format) eval(c *formatContext) string { return f.evalWith(c, true) }

// evalWith formats; without omitEmpty a command with no value prints "-".
func (f *format) evalWith(c *formatContext, omitEmpty bool) string {
	var b strings.Builder
	for _, p := range f.parts {
		if p.cmd == "" {
			b.WriteString(p.literal)
			continue
		}
		v, ok := commands[p.cmd](c, p.arg)
		if !ok || v == "" {
			if !omitEmpty {
				b.WriteString("-")
			}
			continue
		}
		if p.maxLen > 0 && len(v) > p.maxLen {
			v = v[:p.maxLen]
		}
		b.WriteString(v)
	}
	return b.String()
}

// formatText is the text of a SubstitutionFormatString.
func formatText(fs *corev3.SubstitutionFormatString) (string, error) {
	switch f := fs.GetFormat().(type) {
	case *corev3.SubstitutionFormatString_TextFormat:
		// Envoy still formats the deprecated text_format
		// (SubstitutionFormatStringUtils::fromProtoConfig,
		// source/common/formatter/substitution_format_string.h).
		return f.TextFormat, nil //nolint:staticcheck // SA1019: Envoy honours it, so the model reads it

	case *corev3.SubstitutionFormatString_TextFormatSource:
		src := f.TextFormatSource
		switch {
		case src.GetInlineString() != "":
			return src.GetInlineString(), nil
		case len(src.GetInlineBytes()) > 0:
			return string(src.GetInlineBytes()), nil
		}
		return "", unsupported("a text_format_source that is not inline")
	}
	return "", unsupported("a format that is not text")
}
