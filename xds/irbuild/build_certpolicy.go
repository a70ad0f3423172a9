package irbuild

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// policyPick is the ClientCertificatePolicies competing for one chain: a
// Gateway-wide one and one naming the chain's server.
type policyPick struct {
	gatewayWide, section *model.ClientCertificatePolicy
}

// applyCertPolicies applies each ClientCertificatePolicy to the
// TLS-terminating chains of the servers it targets. A policy naming a
// server (targetRef.sectionName) replaces a Gateway-wide one for that server
// as a whole; two policies at the same level are an error.
func (b *builder) applyCertPolicies(chains []*chainInfo) {
	picks := map[*chainInfo]*policyPick{}
	for _, p := range b.cfg.ClientCertificatePolicies {
		section := p.Spec.TargetRef.SectionName != ""
		for _, ci := range b.certPolicyTargets(p) {
			pk := picks[ci]
			if pk == nil {
				pk = &policyPick{}
				picks[ci] = pk
			}
			slot := &pk.gatewayWide
			if section {
				slot = &pk.section
			}
			if *slot != nil {
				b.errorf(&p.Object, "spec.targetRef", "%s%s already applies to chain %s", (*slot).Ref(), (*slot).Pos.At(""), ci.chain.Name)
				continue
			}
			*slot = p
		}
	}
	for _, ci := range chains {
		if pk := picks[ci]; pk != nil {
			p := pk.section
			if p == nil {
				p = pk.gatewayWide
			}
			b.applyCertPolicy(p, ci)
		}
	}
}

// targetGateway finds the Gateway a policy's targetRef names (namespace
// defaulting to the policy's); nil, with an error, when there is none.
func (b *builder) targetGateway(obj *model.Object, path string, ref model.PolicyTargetReference) *model.Gateway {
	if ref.Kind != "Gateway" {
		b.errorf(obj, path+".kind", "kind %q is not supported (Gateway)", ref.Kind)
		return nil
	}
	ns := ref.Namespace
	if ns == "" {
		ns = obj.Metadata.Namespace
	}
	gw := b.look.gateways[ns+"/"+ref.Name]
	if gw == nil {
		b.errorf(obj, path+".name", "Gateway %s/%s not found", ns, ref.Name)
		return nil
	}
	if ref.SectionName != "" && !b.look.sections[gwSection{gw, ref.SectionName}] {
		b.errorf(obj, path+".sectionName", "%s has no server named %q (server name or port name)", gw.Ref(), ref.SectionName)
		return nil
	}
	return gw
}

// gwSection is what a policy's targetRef picks: a Gateway's servers in
// section (a server or port name; "" for every server).
type gwSection struct {
	gw      *model.Gateway
	section string
}

// chainTargets are the chains of each gwSection, in chain order, each once:
// found by a scan of every chain, one per policy, 10,000 hosts with a
// policy each took seconds (docs/performance.md).
type chainTargets map[gwSection][]*chainInfo

// indexTargets files each chain under every gwSection one of its servers
// is in: the Gateway's whole ("") and each of model.Server.SectionNames.
func indexTargets(chains []*chainInfo) chainTargets {
	t := chainTargets{}
	add := func(k gwSection, ci *chainInfo) {
		// A chain's keys are added together: a repeat is the last entry.
		if l := t[k]; len(l) == 0 || l[len(l)-1] != ci {
			t[k] = append(l, ci)
		}
	}
	for _, ci := range chains {
		for _, s := range ci.servers {
			add(gwSection{s.gw, ""}, ci)
			for _, name := range s.srv.SectionNames() {
				if name != "" {
					add(gwSection{s.gw, name}, ci)
				}
			}
		}
	}
	return t
}

// targetChains are the chains of gw's servers in section ("" for all); the
// slice is shared, not to be changed.
func (b *builder) targetChains(gw *model.Gateway, section string) []*chainInfo {
	if b.targets == nil {
		b.targets = indexTargets(b.chains)
	}
	return b.targets[gwSection{gw, section}]
}

// certPolicyTargets are the TLS-terminating chains a ClientCertificatePolicy
// applies to on this proxy.
func (b *builder) certPolicyTargets(p *model.ClientCertificatePolicy) []*chainInfo {
	ref := p.Spec.TargetRef
	gw := b.targetGateway(&p.Object, "spec.targetRef", ref)
	if gw == nil || !b.gatewayApplies(gw) {
		return nil
	}
	var out []*chainInfo
	for _, ci := range b.targetChains(gw, ref.SectionName) {
		if ci.chain.TLS != nil {
			out = append(out, ci)
		} else if ref.SectionName != "" {
			b.errorf(&p.Object, "spec.targetRef.sectionName", "server %q of %s does not terminate TLS (chain %s)", ref.SectionName, gw.Ref(), ci.chain.Name)
		}
	}
	if len(out) == 0 && ref.SectionName == "" {
		b.warnf(&p.Object, "spec.targetRef", "%s has no TLS-terminating server on this proxy: the policy does nothing", gw.Ref())
	}
	return out
}

// applyCertPolicy applies one policy to one chain.
func (b *builder) applyCertPolicy(p *model.ClientCertificatePolicy, ci *chainInfo) {
	spec, obj := &p.Spec, &p.Object
	simple := ci.chain.TLS.Mode == ir.TLSSimple
	if simple && needsValidation(spec) {
		// Only a Gateway-wide policy reaches a SIMPLE server (model.Validate
		// rejects one naming it); the CA-side settings would check nothing.
		b.warnf(obj, "spec", "chain %s is SIMPLE and requests no client certificate: clientCA, crl, verifyDepth, subjectAltNames, pins and rejection do not apply to it", ci.chain.Name)
	}
	if !simple {
		b.applyValidation(p, ci)
	}
	if spec.MaxConnectionDuration != "" {
		d, err := parseDuration(spec.MaxConnectionDuration)
		if err != nil {
			b.errorf(obj, "spec.maxConnectionDuration", "%v", err)
		}
		ci.chain.MaxConnectionDuration = d
	}
	if ci.chain.HTTP == nil {
		if spec.ForwardClientCert != nil || spec.Rejection != nil || spec.IdentityHeaders != nil {
			b.errorf(obj, "spec", "chain %s is TCP: forwardClientCert, rejection and identityHeaders need an HTTPS server", ci.chain.Name)
		}
	} else {
		if spec.ForwardClientCert != nil {
			ci.chain.HTTP.XFCC = b.xfcc(obj, spec.ForwardClientCert)
		}
		if spec.Rejection != nil && !simple {
			b.addRejection(p, ci)
		}
		if spec.IdentityHeaders != nil {
			b.addIdentityHeaders(p, ci)
		}
	}
	if spec.Authorization != nil {
		b.certAuthorization(p, ci)
	}
}

// needsValidation reports whether a policy sets anything that only works
// when the client is asked for a certificate. Authorization is not among
// them: on a SIMPLE chain its certificate conditions never match, so its
// allow rules deny everything (fail closed).
func needsValidation(s *model.ClientCertificatePolicySpec) bool {
	return s.ClientCA != "" || s.CRL != nil || s.VerifyDepth != nil || len(s.SubjectAltNames) > 0 ||
		len(s.VerifyCertificateSpki) > 0 || len(s.VerifyCertificateHash) > 0 || s.Rejection != nil
}

// applyValidation applies the client CA, CRL, depth, SAN and pin settings.
func (b *builder) applyValidation(p *model.ClientCertificatePolicy, ci *chainInfo) {
	spec, obj, tls := &p.Spec, &p.Object, ci.chain.TLS
	if spec.ClientCA != "" {
		// Per-host client CAs on one port work because each server has
		// its own chain, even when all share one wildcard certificate.
		src, err := b.resolveCA(obj, "spec.clientCA", ci.servers[0].gw.Metadata.Namespace, spec.ClientCA, false)
		if err != nil {
			b.errorAt(obj, "spec.clientCA", err)
		} else {
			ci.ca = src
		}
	}
	if spec.CRL != nil && spec.CRL.OnlyVerifyLeaf && ci.ca != nil {
		leaf := *ci.ca
		leaf.onlyLeaf = true
		ci.ca = &leaf
	}
	if v := spec.VerifyDepth; v != nil {
		if *v > model.MaxVerifyDepth {
			b.errorf(obj, "spec.verifyDepth", "must be between 0 and %d", model.MaxVerifyDepth)
		}
		// verifyDepth counts intermediates (nginx's ssl_verify_depth, as
		// OpenSSL 1.1 counts it); Envoy's max_verify_depth counts the trust
		// anchor as well: DefaultCertValidator::addClientValidationContext
		// (source/common/tls/cert_validator/default_validator.cc) hands
		// BoringSSL max_verify_depth-1 as the intermediates allowed.
		tls.VerifyDepth = *v + 1
	}
	for i, m := range spec.SubjectAltNames {
		path := fmt.Sprintf("spec.subjectAltNames[%d]", i)
		t, ok := sanTypes[strings.ToUpper(m.Type)]
		if !ok {
			b.errorf(obj, path+".type", "unknown SAN type %q (DNS, URI, EMAIL, IP)", m.Type)
			continue
		}
		tls.SubjectAltNames = append(tls.SubjectAltNames, ir.SANMatch{Type: t, Match: b.certMatch(obj, path, m.CertMatch, t == ir.SANDNS)})
	}
	tls.SPKI = append(tls.SPKI, spec.VerifyCertificateSpki...)
	tls.CertHashes = append(tls.CertHashes, spec.VerifyCertificateHash...)
}

// sanTypes maps the policy's SAN type names to the IR's.
var sanTypes = map[string]ir.SANType{
	"DNS": ir.SANDNS, "URI": ir.SANURI, "EMAIL": ir.SANEmail, "IP": ir.SANIP, "IP_ADDRESS": ir.SANIP,
}

// certMatch converts a CertMatch (exactly one of its fields); dns says the
// field is a DNS SAN, where noWildcard applies.
func (b *builder) certMatch(obj *model.Object, path string, m model.CertMatch, dns bool) ir.StringMatch {
	if m.NoWildcard && (!dns || m.Exact == "") {
		b.errorf(obj, path+".noWildcard", "noWildcard applies to an exact match of a DNS SAN")
	}
	switch {
	case m.Exact != "" && m.NoWildcard && dns:
		return literalDNSName(m.Exact)
	case m.Exact != "":
		return ir.StringMatch{Exact: m.Exact}
	case m.Prefix != "":
		return ir.StringMatch{Prefix: m.Prefix}
	case m.Suffix != "":
		return ir.StringMatch{Suffix: m.Suffix}
	case m.Regex != "":
		b.checkRegex(obj, path+".regex", m.Regex)
		return ir.StringMatch{Regex: m.Regex}
	}
	b.errorf(obj, path, "one of exact, prefix, suffix and regex is required")
	return ir.StringMatch{}
}

// xfccModes are Envoy's forward_client_cert_details values.
var xfccModes = map[string]ir.XFCCMode{
	"SANITIZE": ir.XFCCSanitize, "FORWARD_ONLY": ir.XFCCForwardOnly, "APPEND_FORWARD": ir.XFCCAppendForward,
	"SANITIZE_SET": ir.XFCCSanitizeSet, "ALWAYS_FORWARD_ONLY": ir.XFCCAlwaysForwardOnly,
}

// xfcc converts a forwardClientCert policy (mode SANITIZE_SET and subject,
// URI and DNS details by default).
func (b *builder) xfcc(obj *model.Object, f *model.ForwardClientCert) *ir.XFCC {
	mode := ir.XFCCSanitizeSet
	if f.Mode != "" {
		m, ok := xfccModes[strings.ToUpper(f.Mode)]
		if !ok {
			b.errorf(obj, "spec.forwardClientCert.mode", "unknown mode %q (SANITIZE, FORWARD_ONLY, APPEND_FORWARD, SANITIZE_SET, ALWAYS_FORWARD_ONLY)", f.Mode)
		}
		mode = m
	}
	orTrue := func(p *bool) bool { return p == nil || *p }
	return &ir.XFCC{Mode: mode, Subject: orTrue(f.Subject), URI: orTrue(f.URI), DNS: orTrue(f.DNS), Cert: f.Cert, Chain: f.Chain}
}

// literalDNSName matches a DNS SAN that is name, ignoring ASCII case only,
// and nothing else: in particular no wildcard SAN such as *.example.com.
//
// Envoy matches an exact DNS SAN matcher with DNS wildcard rules, the
// certificate's SAN being the pattern: StringSanMatcher::match
// (source/common/tls/cert_validator/san_matcher.cc) calls
// Utility::dnsNameMatch (source/common/tls/utility.cc) for kExact on
// GEN_DNS, so a certificate for *.example.com (or a*.example.com) satisfies
// exact admin.example.com. Every other matcher type goes to
// StringMatcher::match on the SAN string as it is, and safe_regex is a full
// match. So the name becomes a regex of the quoted name with each ASCII
// letter as a two-letter class: ASCII case-insensitive like dnsNameMatch's
// AsciiStrToLower, without (?i)'s Unicode folds (k to U+212A, s to U+017F).
// RE2 compiles a class that folds ASCII to one foldcase byte range (re2's
// compile.cc, Compiler::PostVisit, "ASCII case-folding optimization"), so
// the program stays about one instruction per character.
func literalDNSName(name string) ir.StringMatch {
	var b strings.Builder
	for _, r := range regexp.QuoteMeta(name) {
		switch {
		case 'a' <= r && r <= 'z':
			b.WriteString("[" + string(r) + string(r-'a'+'A') + "]")
		case 'A' <= r && r <= 'Z':
			b.WriteString("[" + string(r-'A'+'a') + string(r) + "]")
		default:
			b.WriteRune(r)
		}
	}
	return ir.StringMatch{Regex: b.String()}
}
