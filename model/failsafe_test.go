package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLoadRefusesWhatATruncatedFileLooksLike: an empty, blank or
// comment-only file, an empty or null document, and a key with no value are
// errors at the file and line: each is what a half-written file looks like,
// and reading them as "nothing" or "not set" would strip objects or checks.
func TestLoadRefusesWhatATruncatedFileLooksLike(t *testing.T) {
	tests := map[string]struct {
		yaml string
		want []string
	}{
		"an empty file": {
			yaml: "",
			want: []string{`case.yaml: the file is empty; a half-written file reads this way, so it is refused. To remove its objects, delete the file`},
		},
		"a file of white space": {
			yaml: "  \n\t\n",
			want: []string{`case.yaml: the file is empty (5 bytes of white space); a half-written file reads this way, so it is refused. To remove its objects, delete the file`},
		},
		"a file of comments": {
			yaml: "# Istio objects for the edge gateway\n",
			want: []string{`case.yaml: the file holds only comments, no object; a half-written file reads this way, so it is refused. To remove its objects, delete the file`},
		},
		"a file cut right after a separator": {
			yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\n",
			want: []string{`case.yaml:5: document 2 is empty (null); a file cut short after "---" reads this way, so it is refused. Remove the extra "---" separator`},
		},
		"an empty document between two": {
			yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n---\n# nothing here\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n",
			want: []string{`case.yaml:6: document 2 is empty (null); a file cut short after "---" reads this way, so it is refused. Remove the extra "---" separator`},
		},
		"a null document": {
			yaml: "null\n",
			want: []string{`case.yaml:1: document 1 is empty (null); a file cut short after "---" reads this way, so it is refused. Remove the extra "---" separator`},
		},
		"authorization.allow with no value": {
			yaml: "apiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: p, namespace: edge}\nspec:\n  targetRef: {kind: Gateway, name: gw}\n  authorization:\n    allow:\n",
			want: []string{`case.yaml:7: ClientCertificatePolicy edge/p: spec.authorization.allow: no value (null); give it one or remove the key (a file cut short after a key reads this way)`},
		},
		"a policy cut before its rules": {
			yaml: "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ap, namespace: edge}\nspec:\n  action: ALLOW\n  rules:\n  - to:\n",
			want: []string{`case.yaml:7: AuthorizationPolicy edge/ap: spec.rules[0].to: no value (null); give it one or remove the key (a file cut short after a key reads this way)`},
		},
		"a list item with no value": {
			yaml: gwHead + "  servers:\n  - port: {number: 443, protocol: HTTPS}\n    hosts:\n    -\n",
			want: []string{`case.yaml:9: Gateway default/gw: spec.servers[0].hosts[0]: no value (null); give it one or remove the key (a file cut short after a key reads this way)`},
		},
		"tilde and null spelled out": {
			yaml: gwHead + "  selector: ~\n  servers:\n  - tls: null\n",
			want: []string{
				`case.yaml:6: Gateway default/gw: spec.selector: no value (null); give it one or remove the key (a file cut short after a key reads this way)`,
				`case.yaml:8: Gateway default/gw: spec.servers[0].tls: no value (null); give it one or remove the key (a file cut short after a key reads this way)`,
			},
		},
		"a spec with no value": {
			yaml: "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ap, namespace: edge}\nspec:\n",
			want: []string{`case.yaml:4: AuthorizationPolicy edge/ap: spec: no value (null); give it one or remove the key (a file cut short after a key reads this way)`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, got := loadText(t, tc.yaml)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadAcceptsWhatIsNotNull: kubectl's null creationTimestamp is an
// ignored metadata field, a comment before the first "---" opens the first
// document, and "..." ends a document without starting another.
func TestLoadAcceptsWhatIsNotNull(t *testing.T) {
	for name, text := range map[string]string{
		"kubectl's null creationTimestamp": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  creationTimestamp: null\n",
		"a header comment, then ---":       "# header\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
		"a document end marker":            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n...\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, errs := loadText(t, text)
			if errs != nil {
				t.Fatalf("Load: %v", errs)
			}
			if len(c.Secrets) != 1 {
				t.Errorf("got %d secrets, want 1", len(c.Secrets))
			}
		})
	}
}

// TestValidateRefusesEmptySecuritySettings: an empty mapping or list ({} or
// []) where a security setting belongs would mean "no check"; each is an
// error at its field, saying what it would have meant.
func TestValidateRefusesEmptySecuritySettings(t *testing.T) {
	ccp := func(spec string) string {
		return ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n" + spec)
	}
	validateCases(t, map[string]validateCase{
		"authorization {}": {
			yaml: ccp("  authorization: {}\n"),
			want: []string{`case.yaml:6: ClientCertificatePolicy default/p: spec.authorization: is empty: with neither allow nor deny, every certificate the client CA accepts would be allowed; remove it or fill it in`},
		},
		"allow []": {
			yaml: ccp("  authorization: {allow: []}\n"),
			want: []string{`case.yaml:6: ClientCertificatePolicy default/p: spec.authorization.allow: is empty: every certificate the client CA accepts would be allowed; remove it or fill it in`},
		},
		"deny [] beside an allow rule": {
			yaml: ccp("  authorization:\n    allow: [{commonName: [{exact: alice}]}]\n    deny: []\n"),
			want: []string{`case.yaml:8: ClientCertificatePolicy default/p: spec.authorization.deny: is empty: nothing would be denied; remove it or fill it in`},
		},
		"an empty matcher list and empty hosts in a rule": {
			yaml: ccp("  authorization:\n    allow:\n    - {commonName: [{exact: alice}], uriSan: [], hosts: []}\n"),
			want: []string{
				`case.yaml:8: ClientCertificatePolicy default/p: spec.authorization.allow[0].hosts: is empty: the rule would apply to every host; remove it or fill it in`,
				`case.yaml:8: ClientCertificatePolicy default/p: spec.authorization.allow[0].uriSan: is empty: the rule would not look at this field; remove it or fill it in`,
			},
		},
		"an empty rule": {
			yaml: ccp("  authorization:\n    allow: [{}]\n"),
			want: []string{`case.yaml:7: ClientCertificatePolicy default/p: spec.authorization.allow[0]: rule matches no certificate field (subject, commonName, issuer, fingerprint, dnsSan, uriSan, emailSan, ipSan)`},
		},
		"empty SAN matchers and pins": {
			yaml: ccp("  subjectAltNames: []\n  verifyCertificateSpki: []\n  verifyCertificateHash: []\n"),
			want: []string{
				`case.yaml:4: ClientCertificatePolicy default/p: spec: the policy sets nothing besides targetRef (a file cut short after targetRef reads this way); add its settings, or delete the policy`,
				`case.yaml:6: ClientCertificatePolicy default/p: spec.subjectAltNames: is empty: a client certificate with any SAN would be accepted; remove it or fill it in`,
				`case.yaml:7: ClientCertificatePolicy default/p: spec.verifyCertificateSpki: is empty: no pin would be checked; remove it or fill it in`,
				`case.yaml:8: ClientCertificatePolicy default/p: spec.verifyCertificateHash: is empty: no pin would be checked; remove it or fill it in`,
			},
		},
		"empty client-certificate checks of a Gateway server": {
			yaml: gwDoc(tlsServer("      mode: MUTUAL\n      credentialName: gw-cred\n      subjectAltNames: []\n")),
			want: []string{`case.yaml:12: Gateway default/gw: spec.servers[0].tls.subjectAltNames: is empty: a client certificate with any SAN would be accepted; remove it or fill it in`},
		},
		"a policy cut right after its targetRef": {
			yaml: ccp(""),
			want: []string{`case.yaml:4: ClientCertificatePolicy default/p: spec: the policy sets nothing besides targetRef (a file cut short after targetRef reads this way); add its settings, or delete the policy`},
		},
		"rules [{}]": {
			yaml: apDoc("  rules: [{}]\n"),
			want: []string{`case.yaml:5: AuthorizationPolicy default/ap: spec.rules[0]: is empty: the rule would match every request, so an ALLOW policy would allow everything (a DENY policy deny everything). To allow every request remove the policy; to deny every request leave rules out of an ALLOW policy; remove it or fill it in`},
		},
		"rules []": {
			yaml: apDoc("  rules: []\n"),
			want: []string{`case.yaml:5: AuthorizationPolicy default/ap: spec.rules: is empty: an ALLOW policy without rules denies every request; to say so, leave rules out; remove it or fill it in`},
		},
		"empty from, to and when": {
			yaml: apDoc("  rules:\n  - from: []\n    to: []\n    when: []\n"),
			want: []string{
				`case.yaml:6: AuthorizationPolicy default/ap: spec.rules[0].from: is empty: the rule would accept requests from any source; remove it or fill it in`,
				`case.yaml:7: AuthorizationPolicy default/ap: spec.rules[0].to: is empty: the rule would apply to every operation; remove it or fill it in`,
				`case.yaml:8: AuthorizationPolicy default/ap: spec.rules[0].when: is empty: the rule would have no condition; remove it or fill it in`,
			},
		},
		"an empty list beside a full one": {
			yaml: apDoc("  rules:\n  - from: [{source: {principals: [a], notPrincipals: []}}]\n    when: [{key: source.ip, values: [10.0.0.1], notValues: []}]\n"),
			want: []string{
				`case.yaml:6: AuthorizationPolicy default/ap: spec.rules[0].from[0].source.notPrincipals: is empty: the rule would not look at this field; remove it or fill it in`,
				`case.yaml:7: AuthorizationPolicy default/ap: spec.rules[0].when[0].notValues: is empty: the rule would not look at this field; remove it or fill it in`,
			},
		},
		"spec {} is Istio's deny-all": {
			yaml: apDoc("  {}\n"),
		},
	})
}

// TestValidateNames: object names and namespaces follow Kubernetes' rules
// (DNS subdomain names, DNS label namespaces), and no error message carries
// a control or bidirectional-formatting character from the input: it would
// reach a terminal or a log line as it is.
func TestValidateNames(t *testing.T) {
	secret := func(meta string) string { return "apiVersion: v1\nkind: Secret\nmetadata: " + meta + "\n" }
	validateCases(t, map[string]validateCase{
		"upper case and underscores": {
			yaml: secret(`{name: My_Secret, namespace: edge}`),
			want: []string{`case.yaml:3: Secret edge/My_Secret: metadata.name: "My_Secret" is not a valid name: Kubernetes names are lower-case letters, digits, '-' and '.', start and end with a letter or digit, and have at most 253 characters`},
		},
		"a namespace with a dot": {
			yaml: secret(`{name: s, namespace: team.edge}`),
			want: []string{`case.yaml:3: Secret team.edge/s: metadata.namespace: "team.edge" is not a valid namespace: Kubernetes namespaces are lower-case letters, digits and '-', start and end with a letter or digit, and have at most 63 characters`},
		},
		"a terminal escape in a name": {
			yaml: secret(`{name: "a\e[31mred", namespace: edge}`),
			want: []string{`case.yaml:3: Secret edge/a\x1b[31mred: metadata.name: "a\x1b[31mred" is not a valid name: Kubernetes names are lower-case letters, digits, '-' and '.', start and end with a letter or digit, and have at most 253 characters`},
		},
		"a newline and a bidi override in a namespace": {
			yaml: secret(`{name: s, namespace: "ed\nge\u202e"}`),
			want: []string{`case.yaml:3: Secret ed\nge\u202e/s: metadata.namespace: "ed\nge\u202e" is not a valid namespace: Kubernetes namespaces are lower-case letters, digits and '-', start and end with a letter or digit, and have at most 63 characters`},
		},
		"dotted names are names": {
			yaml: secret(`{name: gw.example.com-cert, namespace: istio-system}`),
		},
	})
}

// TestLoadErrorsEscapeControlCharacters: file names and keys chosen by
// whoever wrote the files reach messages escaped.
func TestLoadErrorsEscapeControlCharacters(t *testing.T) {
	_, got := loadText(t, gwHead+"  servers: []\n  \"x\\e]0;pwned\\a\": 1\n")
	want := []string{`case.yaml:7: Gateway default/gw: spec.x\x1b]0;pwned\a: unknown field "x\x1b]0;pwned\a"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	fe := &FieldError{File: "dir/\x1b[2Jcase.yaml", Line: 3, Msg: "m"}
	if got, want := fe.Error(), `dir/\x1b[2Jcase.yaml:3: m`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
