package compile

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/certcheck"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// diagnose runs the certificate diagnoses on every secret the proxy group
// uses, in the role it is used in (serving certificate for a chain's hosts,
// client CA with its CRL mode, backend CA, backend client certificate, pins).
// Errors are what Envoy would reject or what would break every client;
// warnings are risks.
func diagnose(p *ir.Proxy, s settings) (warnings []*model.FieldError, err error) {
	secrets := map[string]*ir.Secret{}
	for _, sec := range p.Secrets {
		secrets[sec.Name] = sec
	}
	d := &diagnosis{settings: s, secrets: secrets, seen: map[string]bool{}}
	rejecting := rejectingRouteConfigs(p)
	uses := map[string]*secretUse{} // each secret is checked once per role
	for _, l := range p.Listeners {
		for _, ch := range l.Chains {
			if ch.TLS == nil {
				continue
			}
			for _, name := range ch.TLS.CertSecrets {
				u := use(uses, "serving:"+name, name, ch)
				u.hosts = append(u.hosts, ch.ServerNames...)
			}
			if ch.TLS.CASecret != "" {
				use(uses, "clientca:"+ch.TLS.CASecret, ch.TLS.CASecret, ch)
			}
			pins := append(certcheck.CheckSPKI(ch.TLS.SPKI), certcheck.CheckCertHash(ch.TLS.CertHashes)...)
			d.report(nil, "client certificate pins of chain "+ch.Name, pins, nil)
			d.optionalMode(ch, ch.HTTP != nil && rejecting[ch.HTTP.RouteConfig])
		}
	}
	for _, key := range sortedKeys(uses) {
		d.downstream(key, uses[key])
	}
	for _, c := range p.Clusters {
		if c.TLS != nil {
			d.upstream(c)
		}
	}
	var errs model.Errors
	errs.Add(d.errs...)
	return d.warnings, errs.Err()
}

// secretUse is one secret in one role on the chains that use it.
type secretUse struct {
	secret string
	chains []string
	hosts  []string // serving role: the SNI names of all those chains
}

func use(uses map[string]*secretUse, key, secret string, ch *ir.Chain) *secretUse {
	u := uses[key]
	if u == nil {
		u = &secretUse{secret: secret}
		uses[key] = u
	}
	u.chains = append(u.chains, ch.Name)
	return u
}

// role names the chains a secret serves: "chain a" or "chains a, b (+3)".
func (u *secretUse) role(what string) string {
	if len(u.chains) == 1 {
		return what + " of chain " + u.chains[0]
	}
	shown := u.chains
	more := ""
	if len(shown) > 3 {
		shown, more = shown[:3], fmt.Sprintf(" (+%d more)", len(u.chains)-3)
	}
	return what + " of chains " + strings.Join(shown, ", ") + more
}

type diagnosis struct {
	settings settings
	secrets  map[string]*ir.Secret
	seen     map[string]bool
	warnings []*model.FieldError
	errs     []*model.FieldError
}

func (d *diagnosis) downstream(key string, u *secretUse) {
	sec := d.secrets[u.secret]
	switch {
	case sec == nil:
		return
	case strings.HasPrefix(key, "serving:") && sec.Cert != nil:
		d.report(sec, u.role("serving certificate"), certcheck.CheckServing(certcheck.ServingInput{
			Cert: sec.Cert.CertPEM, Key: sec.Cert.KeyPEM, CA: sec.Cert.IssuerPEM, Hosts: u.hosts,
			Now: d.settings.now(), ExpiryWarning: d.settings.expiryWarning,
		}), certTimeCodes)
	case strings.HasPrefix(key, "clientca:") && sec.Validation != nil:
		d.report(sec, u.role("client CA"), certcheck.CheckClientCA(certcheck.ClientCAInput{
			CA: sec.Validation.CAPEM, CRL: sec.Validation.CRLPEM, OnlyLeafCRL: sec.Validation.OnlyVerifyLeafCRL,
			Now: d.settings.now(), ExpiryWarning: d.settings.expiryWarning,
		}), crlTimeCodes)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// optionalMode flags OPTIONAL_MUTUAL chains that Envoy will treat as MUTUAL:
// SAN matchers and SPKI/hash pins make Envoy's default validator set
// SSL_VERIFY_FAIL_IF_NO_PEER_CERT whatever require_client_certificate says,
// so a client without a certificate fails the handshake and never sees the
// friendly rejection.
func (d *diagnosis) optionalMode(ch *ir.Chain, rejects bool) {
	t := ch.TLS
	if t.Mode != ir.TLSOptionalMutual || len(t.SubjectAltNames)+len(t.SPKI)+len(t.CertHashes) == 0 {
		return
	}
	msg := fmt.Sprintf("chain %s: tls.mode OPTIONAL_MUTUAL with client subjectAltNames or certificate pins: Envoy then requires a client certificate in the handshake, exactly as MUTUAL", ch.Name)
	if !rejects {
		d.warnings = append(d.warnings, &model.FieldError{Msg: msg + ".", Fix: "use MUTUAL, or express the constraint as an authorization rule on the certificate.",
			Code: codeOptionalAsMutual, Warning: true})
		return
	}
	d.errs = append(d.errs, &model.FieldError{Msg: msg + ", so the configured rejection response can never be sent.",
		Fix:  "move the SAN/pin constraint into authorization rules (ClientCertificatePolicy.authorization), or use MUTUAL without a rejection.",
		Code: codeOptionalAsMutual})
}

// codeOptionalAsMutual is the code of optionalMode's finding.
const codeOptionalAsMutual = "optional-mutual-requires-certificate"

// rejectingRouteConfigs are the route configurations that answer requests
// without a client certificate (a CertPresented=false route).
func rejectingRouteConfigs(p *ir.Proxy) map[string]bool {
	out := map[string]bool{}
	for _, rc := range p.RouteConfigs {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				if r.Match.CertPresented != nil && !*r.Match.CertPresented {
					out[rc.Name] = true
				}
			}
		}
	}
	return out
}

func (d *diagnosis) upstream(c *ir.Cluster) {
	role := "cluster " + c.Name
	if sec := d.secrets[c.TLS.CASecret]; sec != nil && sec.Validation != nil {
		d.report(sec, "backend CA of "+role, certcheck.CheckUpstreamCA(sec.Validation.CAPEM, d.settings.now(), d.settings.expiryWarning), nil)
	}
	if sec := d.secrets[c.TLS.CertSecret]; sec != nil && sec.Cert != nil {
		findings := certcheck.CheckServing(certcheck.ServingInput{
			Cert: sec.Cert.CertPEM, Key: sec.Cert.KeyPEM, CA: sec.Cert.IssuerPEM,
			Now: d.settings.now(), ExpiryWarning: d.settings.expiryWarning,
		})
		d.report(sec, "client certificate of "+role, withoutCodes(findings, certcheck.CodeNoSAN, certcheck.CodeWrongUsage), certTimeCodes)
	}
}

// Findings that `serve` leaves to the server (ForServe): whether a
// certificate or CRL that is not valid now may be pushed depends on what is
// served, which only the server knows (xds/server's hold.go holds it back
// when the served one is valid, and lets it replace one that is not).
var (
	certTimeCodes = []string{certcheck.CodeExpired, certcheck.CodeNotYetValid}
	crlTimeCodes  = []string{certcheck.CodeCRLExpired, certcheck.CodeCRLNotYetValid}
)

// report records findings once per secret, role and message; with
// ForServe, the deferred codes are warnings.
func (d *diagnosis) report(sec *ir.Secret, role string, findings []certcheck.Finding, deferred []string) {
	for _, f := range findings {
		e := finding(sec, role, f)
		if d.seen[e.Error()] {
			continue
		}
		d.seen[e.Error()] = true
		if f.Severity == certcheck.Warning || (d.settings.serving && slices.Contains(deferred, f.Code)) {
			e.Warning = true
			d.warnings = append(d.warnings, e)
			continue
		}
		d.errs = append(d.errs, e)
	}
}

// finding is f as a user error located at the secret, reading
// "where: Secret ns/name: role: message Fix: fix".
func finding(sec *ir.Secret, role string, f certcheck.Finding) *model.FieldError {
	e := &model.FieldError{Msg: role + ": " + f.Message, Fix: f.Fix, Code: f.Code}
	if sec != nil {
		locate(e, sec)
	}
	return e
}

// locate places e at the secret's origin (model.Secret.Origin and ir's
// file secrets): "file.yaml:12 Secret ns/name" for a Secret document, the
// entry's directory for the secrets directory, "file PATH" or
// "files CERT, KEY" for files a Gateway or DestinationRule names.
func locate(e *model.FieldError, sec *ir.Secret) {
	origin := sec.Origin
	switch {
	case origin == "":
		e.Object = "Secret " + sec.Name
		return
	case strings.HasPrefix(origin, "file ") || strings.HasPrefix(origin, "files "):
		e.File = origin
		return
	}
	if loc, obj, ok := strings.Cut(origin, " "); ok {
		if i := strings.LastIndex(loc, ":"); i > 0 {
			if n, err := strconv.Atoi(loc[i+1:]); err == nil && n > 0 {
				e.File, e.Line, e.Object = loc[:i], n, obj
				return
			}
		}
	}
	e.File, e.Object = origin, "Secret "+filepath.Base(origin)
}

func withoutCodes(findings []certcheck.Finding, codes ...string) []certcheck.Finding {
	var out []certcheck.Finding
	for _, f := range findings {
		skip := false
		for _, c := range codes {
			skip = skip || f.Code == c
		}
		if !skip {
			out = append(out, f)
		}
	}
	return out
}
