package irbuild

import (
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// rootNamespace is Istio's root namespace: a policy there applies to every
// workload.
const rootNamespace = "istio-system"

// applyAuthorizationPolicies attaches every AuthorizationPolicy that
// applies to this proxy to the RBAC of the chains it governs.
func (b *builder) applyAuthorizationPolicies(chains []*chainInfo) {
	derived := peerDerivedHeaders(chains)
	for _, ap := range b.cfg.AuthorizationPolicies {
		targets := b.policyChains(ap, chains)
		if len(targets) == 0 {
			continue
		}
		allow, ok := b.policyAction(ap)
		if !ok {
			continue
		}
		rules := b.authzRules(ap)
		for _, ci := range targets {
			for i, r := range rules {
				r = b.guardPeerHeaders(ap, i, r, ci, derived)
				b.addRule(ci, r, allow)
			}
			if allow {
				// Any ALLOW policy, even one without rules, denies what no
				// ALLOW rule matches.
				ci.ensureRBAC().HasAllow = true
			}
		}
	}
}

// policyAction returns whether the policy allows (true) or denies; ok is
// false when it contributes nothing.
func (b *builder) policyAction(ap *model.AuthorizationPolicy) (allow, ok bool) {
	switch strings.ToUpper(ap.Spec.Action) {
	case "", "ALLOW":
		return true, true
	case "DENY":
		if len(ap.Spec.Rules) == 0 {
			b.warnf(&ap.Object, "spec.rules", "a DENY policy without rules denies nothing")
			return false, false
		}
		return false, true
	case "AUDIT":
		b.warnf(&ap.Object, "spec.action", "AUDIT is not supported and is ignored (it never changes a decision)")
		return false, false
	}
	b.errorf(&ap.Object, "spec.action", "action %q is not supported (ALLOW, DENY)", ap.Spec.Action)
	return false, false
}

// policyChains are the chains a policy governs on this proxy: the targeted
// Gateways' chains (targetRef/targetRefs); every chain when its selector's
// labels are the proxy's; with neither, every chain when some Gateway in the
// policy's namespace applies to the proxy, or the namespace is the root one.
// A Gateway stands for its workload's namespace, which trustgate cannot see.
func (b *builder) policyChains(ap *model.AuthorizationPolicy, chains []*chainInfo) []*chainInfo {
	refs := ap.Spec.TargetRefs
	if ap.Spec.TargetRef != nil {
		refs = append([]model.PolicyTargetReference{*ap.Spec.TargetRef}, refs...)
	}
	if len(refs) > 0 {
		var out []*chainInfo
		seen := map[*chainInfo]bool{}
		for i, ref := range refs {
			if ref.Namespace != "" && ref.Namespace != ap.Metadata.Namespace {
				// As in Istio, a policy governs its own namespace only
				// (model.Validate says so first).
				b.errorf(&ap.Object, targetRefPath(ap, i)+".namespace", "a cross-namespace target is not supported")
				continue
			}
			gw := b.targetGateway(&ap.Object, targetRefPath(ap, i), ref)
			if gw == nil || !b.gatewayApplies(gw) {
				continue
			}
			for _, ci := range b.targetChains(gw, ref.SectionName) {
				if !seen[ci] {
					seen[ci] = true
					out = append(out, ci)
				}
			}
		}
		return out
	}
	if sel := ap.Spec.Selector; sel != nil && len(sel.MatchLabels) > 0 {
		if labelset.Selects(sel.MatchLabels, b.node.Labels) {
			return chains
		}
		return nil
	}
	if ap.Metadata.Namespace == rootNamespace {
		return chains
	}
	if b.look.nsApplies[ap.Metadata.Namespace] {
		return chains
	}
	return nil
}

// targetRefPath is the field path of the i-th of a policy's target refs
// (targetRef first, when set).
func targetRefPath(ap *model.AuthorizationPolicy, i int) string {
	if ap.Spec.TargetRef != nil {
		if i == 0 {
			return "spec.targetRef"
		}
		i--
	}
	return fmt.Sprintf("spec.targetRefs[%d]", i)
}

// ensureRBAC returns the chain's RBAC, creating it.
func (ci *chainInfo) ensureRBAC() *ir.RBAC {
	if ci.rbac == nil {
		ci.rbac = &ir.RBAC{}
	}
	return ci.rbac
}

// addRule adds a rule to a chain. On TCP chains HTTP-only fields cannot be
// evaluated; as in Istio, an ALLOW rule using them is dropped and in a DENY
// rule they are left out, so it denies more (fail closed).
func (b *builder) addRule(ci *chainInfo, r ir.AuthzRule, allow bool) {
	if ci.chain.TCP != nil && usesHTTPFields(r) {
		if allow {
			return
		}
		r = withoutHTTPFields(r)
	}
	rb := ci.ensureRBAC()
	if allow {
		rb.Allow = append(rb.Allow, r)
	} else {
		rb.Deny = append(rb.Deny, r)
	}
}

// usesHTTPFields reports whether a rule tests hosts, paths, methods or
// request headers.
func usesHTTPFields(r ir.AuthzRule) bool {
	for _, o := range r.To {
		if len(o.Hosts)+len(o.NotHosts)+len(o.Paths)+len(o.NotPaths)+len(o.Methods)+len(o.NotMethods) > 0 {
			return true
		}
	}
	for _, c := range r.When {
		if c.Key == ir.CondRequestHeader {
			return true
		}
	}
	return false
}

// withoutHTTPFields drops a rule's HTTP-only fields.
func withoutHTTPFields(r ir.AuthzRule) ir.AuthzRule {
	out := ir.AuthzRule{Name: r.Name, From: r.From}
	for _, o := range r.To {
		out.To = append(out.To, ir.Operation{Ports: o.Ports, NotPorts: o.NotPorts})
	}
	for _, c := range r.When {
		if c.Key != ir.CondRequestHeader {
			out.When = append(out.When, c)
		}
	}
	return out
}

// certAuthorization adds a ClientCertificatePolicy's allow and deny rules.
func (b *builder) certAuthorization(p *model.ClientCertificatePolicy, ci *chainInfo) {
	a := p.Spec.Authorization
	for _, list := range []struct {
		field string
		rules []model.CertRule
		allow bool
	}{{"allow", a.Allow, true}, {"deny", a.Deny, false}} {
		for i, cr := range list.rules {
			b.addRule(ci, b.certRule(p, list.field, i, cr), list.allow)
		}
	}
	if len(a.Allow) > 0 {
		ci.ensureRBAC().HasAllow = true
	}
}

// certRule converts one certificate rule: each given field becomes a When
// condition on the certificate, hosts and paths an operation.
func (b *builder) certRule(p *model.ClientCertificatePolicy, field string, i int, cr model.CertRule) ir.AuthzRule {
	obj, path := &p.Object, fmt.Sprintf("spec.authorization.%s[%d]", field, i)
	name := cr.Name
	if name == "" {
		name = fmt.Sprintf("trustgate[%s/%s]-%s[%d]", p.Metadata.Namespace, p.Metadata.Name, field, i)
	}
	r := ir.AuthzRule{Name: name}
	for _, f := range []struct {
		name string
		key  ir.ConditionKey
		ms   []model.CertMatch
	}{
		{"subject", ir.CondCertSubject, cr.Subject}, {"commonName", ir.CondCertCN, cr.CommonName},
		{"issuer", ir.CondCertIssuer, cr.Issuer}, {"fingerprint", ir.CondCertFingerprint, cr.Fingerprint},
		{"dnsSan", ir.CondCertDNSSAN, cr.DNSSAN}, {"uriSan", ir.CondCertURISAN, cr.URISAN},
		{"emailSan", ir.CondCertEmailSAN, cr.EmailSAN}, {"ipSan", ir.CondCertIPSAN, cr.IPSAN},
	} {
		if len(f.ms) == 0 {
			continue
		}
		c := ir.Condition{Key: f.key}
		for j, m := range f.ms {
			c.Values = append(c.Values, b.certMatch(obj, fmt.Sprintf("%s.%s[%d]", path, f.name, j), m, f.key == ir.CondCertDNSSAN))
		}
		r.When = append(r.When, c)
	}
	if len(cr.Hosts)+len(cr.Paths) > 0 {
		r.To = []ir.Operation{{Hosts: istioMatches(cr.Hosts, true), Paths: istioMatches(cr.Paths, false)}}
	}
	if len(r.When)+len(r.To) == 0 {
		b.errorf(obj, path, "a rule needs at least one certificate field, host or path")
	}
	return r
}
