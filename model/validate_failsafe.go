package model

import (
	"regexp"
)

// emptyRefused lists, by kind, the fields where an empty mapping or list
// ({} or []) is refused, and what it would mean. Each is a security setting
// whose empty value is "no check": read silently, a rule list emptied by
// an edit would let every client in. A null value is refused everywhere by
// the decoder; these are the values written empty on purpose, or so it
// seems. List indices are written [*].
var emptyRefused = map[string]map[string]string{
	"ClientCertificatePolicy": withCertRuleFields(map[string]string{
		"spec.authorization":         "with neither allow nor deny, every certificate the client CA accepts would be allowed",
		"spec.authorization.allow":   "every certificate the client CA accepts would be allowed",
		"spec.authorization.deny":    "nothing would be denied",
		"spec.subjectAltNames":       anySAN,
		"spec.verifyCertificateSpki": noPin,
		"spec.verifyCertificateHash": noPin,
	}),
	"Gateway": {
		"spec.servers[*].tls.subjectAltNames":       anySAN,
		"spec.servers[*].tls.verifyCertificateSpki": noPin,
		"spec.servers[*].tls.verifyCertificateHash": noPin,
	},
	"AuthorizationPolicy": withFields(map[string]string{
		"spec.rules":                      "an ALLOW policy without rules denies every request; to say so, leave rules out",
		"spec.rules[*]":                   "the rule would match every request, so an ALLOW policy would allow everything (a DENY policy deny everything). To allow every request remove the policy; to deny every request leave rules out of an ALLOW policy",
		"spec.rules[*].from":              "the rule would accept requests from any source",
		"spec.rules[*].to":                "the rule would apply to every operation",
		"spec.rules[*].when":              "the rule would have no condition",
		"spec.rules[*].when[*].values":    notLooked,
		"spec.rules[*].when[*].notValues": notLooked,
	},
		"spec.rules[*].from[*].source.", notLooked,
		"principals", "notPrincipals", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"),
}

const (
	anySAN    = "a client certificate with any SAN would be accepted"
	noPin     = "no pin would be checked"
	notLooked = "the rule would not look at this field"
)

// withCertRuleFields adds the matcher lists, hosts and paths of allow and
// deny rules.
func withCertRuleFields(m map[string]string) map[string]string {
	for _, list := range []string{"allow", "deny"} {
		p := "spec.authorization." + list + "[*]."
		withFields(m, p, notLooked, "subject", "commonName", "issuer", "fingerprint", "dnsSan", "uriSan", "emailSan", "ipSan")
		m[p+"hosts"] = "the rule would apply to every host"
		m[p+"paths"] = "the rule would apply to every path"
	}
	return m
}

// withFields adds prefix+field for each field, meaning what.
func withFields(m map[string]string, prefix, what string, fields ...string) map[string]string {
	for _, f := range fields {
		m[prefix+f] = what
	}
	return m
}

// listIndex matches the indices of a field path.
var listIndex = regexp.MustCompile(`\[\d+\]`)

// emptySecuritySettings reports the fields of o written empty where
// emptyRefused forbids it.
func (v *validator) emptySecuritySettings(o *Object) {
	refused := emptyRefused[o.Kind]
	if refused == nil {
		return
	}
	for _, path := range sortedKeys(o.Pos.Empty) {
		what, ok := refused[listIndex.ReplaceAllString(path, "[*]")]
		if !ok {
			continue
		}
		v.errorf(o, path, "is empty: %s; remove it or fill it in", what)
	}
}
