package model

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// allProblems is one file with a problem of every stage: a YAML syntax
// error in one document, an unknown field (a typo) in a Gateway, a
// VirtualService naming a missing Gateway and holding a bad regex, a
// Gateway naming a missing secret, and a document after the broken one.
const allProblems = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {app: gw}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hostz: [a.example.com]
    tls: {mode: SIMPLE, credentialName: gw-cred}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs
spec: {hosts: [a.example.com]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs2}
spec:
  hosts: [a.example.com]
  gateways: [gw, missing]
  http:
  - match: [{uri: {regex: "(unclosed"}}]
    route: [{destination: {host: app}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw2}
spec:
  selector: {app: gw}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [b.example.com]
    tls: {mode: SIMPLE, credentialName: nope}
`

// TestLoadAndValidateReportsEverything checks that one run reports the
// problems of every object: a syntax error skips only its own document, and
// an object with a decoding error is still validated, except at the field
// the error explains (the missing "hosts" of a "hostz" typo).
func TestLoadAndValidateReportsEverything(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"case.yaml": allProblems})
	_, err := LoadAndValidate(LoadOptions{Paths: []string{filepath.Join(dir, "case.yaml")}})
	got := errorLines(err, dir)
	want := []string{
		`case.yaml:8: Gateway default/gw: spec.servers[0].hostz: unknown field "hostz" (did you mean "hosts"?)`,
		`case.yaml:9: Gateway default/gw: spec.servers[0].tls.credentialName: secret "gw-cred" not found in namespaces "default" and "istio-system"`,
		// goyaml reports a parser error one line above the problem.
		`case.yaml:12: invalid YAML: did not find expected ',' or '}'`,
		`case.yaml:21: VirtualService default/vs2: spec.gateways[1]: gateway "missing" (default/missing) not found`,
		`case.yaml:23: VirtualService default/vs2: spec.http[0].match[0].uri.regex: invalid regex: error parsing regexp: missing closing ): ` + "`(unclosed`",
		`case.yaml:34: Gateway default/gw2: spec.servers[0].tls.credentialName: secret "nope" not found in namespaces "default" and "istio-system"`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
}

// TestLoadAndValidateWithoutDecodingErrors returns Validate's findings as
// they are.
func TestLoadAndValidateWithoutDecodingErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"case.yaml": gwHead + "  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: []\n"})
	cfg, err := LoadAndValidate(LoadOptions{Paths: []string{filepath.Join(dir, "case.yaml")}})
	if cfg == nil || len(cfg.Gateways) != 1 {
		t.Fatalf("config %+v, want the Gateway", cfg)
	}
	if got := strings.Join(errorLines(err, dir), "\n"); !strings.Contains(got, "spec.servers[0].hosts") {
		t.Errorf("want the validation error about hosts, got:\n%s", got)
	}
}

// TestSyntaxErrorRecovery checks where decoding goes on after a syntax
// error, and that the lines of the later documents stay the file's.
func TestSyntaxErrorRecovery(t *testing.T) {
	secret := func(name string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + "}\nstringData: {a: b}\n"
	}
	tests := map[string]struct {
		yaml      string
		wantNames []string
		wantErrs  []string
	}{
		"a broken first document": {
			yaml:      "a: [1\n---\n" + secret("s1"),
			wantNames: []string{"s1"},
			wantErrs:  []string{"case.yaml:1: invalid YAML: did not find expected ',' or ']'"},
		},
		"a broken middle document, lines kept": {
			yaml:      secret("s1") + "---\nkind: {\n---\n" + secret("s2") + "---\n" + secret("s3") + "bad: field\n",
			wantNames: []string{"s1", "s2", "s3"},
			wantErrs: []string{
				"case.yaml:6: invalid YAML: did not find expected node content",
				`case.yaml:17: Secret default/s3: bad: unknown field "bad"`,
			},
		},
		"a marker with a document on its line": {
			yaml:      "a: [1\n--- {apiVersion: v1, kind: Secret, metadata: {name: s1}}\n",
			wantNames: []string{"s1"},
			wantErrs:  []string{"case.yaml:1: invalid YAML: did not find expected ',' or ']'"},
		},
		"no marker after the error": {
			yaml:      secret("s1") + "---\na: [1\nb: 2\n",
			wantNames: []string{"s1"},
			wantErrs:  []string{"case.yaml:5: invalid YAML: did not find expected ',' or ']'"},
		},
		"a marker inside a block scalar ends it": {
			yaml:      "a: |\n  text\n  b: [\n---\n" + secret("s1"),
			wantNames: []string{"s1"},
			wantErrs:  []string{"case.yaml:1: object default/: apiVersion is missing"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, errs := loadText(t, tc.yaml)
			var names []string
			for _, s := range cfg.Secrets {
				names = append(names, s.Metadata.Name)
			}
			if d := cmp.Diff(tc.wantNames, names); d != "" {
				t.Errorf("secrets loaded (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantErrs, errs); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}

// TestTooManySyntaxErrors bounds the errors of a file broken everywhere.
func TestTooManySyntaxErrors(t *testing.T) {
	_, errs := loadText(t, strings.Repeat("a: [1\n---\n", maxSyntaxErrors+5))
	if len(errs) != maxSyntaxErrors+1 || !strings.Contains(errs[len(errs)-1], "too many YAML syntax errors") {
		t.Errorf("%d errors, last %q; want %d and a give-up", len(errs), errs[len(errs)-1], maxSyntaxErrors+1)
	}
}

func TestClosestField(t *testing.T) {
	fields := map[string][]int{"hosts": nil, "port": nil, "tls": nil, "credentialName": nil, "selector": nil, "name": nil}
	tests := map[string]string{
		"hostz":          "hosts",
		"Hosts":          "hosts",
		"credentialname": "credentialName",
		"credentialNmae": "credentialName",
		"selecter":       "selector",
		"prot":           "port",
		"xyz":            "",
		"certificate":    "",
	}
	for key, want := range tests {
		if got := closestField(key, fields); got != want {
			t.Errorf("closestField(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestFieldErrorParts(t *testing.T) {
	tests := map[string]struct {
		e                              *FieldError
		code, kind, ns, name, msg, fix string
	}{
		"did you mean moves to fix": {
			e:    &FieldError{Object: "Gateway edge/gw", Msg: `unknown field "hostz" (did you mean "hosts"?)`, Code: CodeUnknownField},
			code: CodeUnknownField, kind: "Gateway", ns: "edge", name: "gw", msg: `unknown field "hostz"`, fix: `did you mean "hosts"?`,
		},
		"a fix of its own wins": {
			e:    &FieldError{Object: "Secret certs", Msg: "expired (did you mean x?)", Fix: "renew it"},
			code: CodeInvalid, kind: "Secret", name: "certs", msg: "expired (did you mean x?)", fix: "renew it",
		},
		"a sentinel gives the code": {
			e:    &FieldError{Object: "Gateway default/gw", Msg: "not found", Err: &ResolveError{Err: ErrSecretNotFound, Msg: "not found"}},
			code: CodeSecretNotFound, kind: "Gateway", ns: "default", name: "gw", msg: "not found",
		},
		"a warning": {
			e:    &FieldError{Msg: "risky", Warning: true},
			code: CodeRisk, msg: "risky",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			kind, ns, n := tc.e.ObjectRef()
			msg, fix := tc.e.Parts()
			got := []string{tc.e.EffectiveCode(), kind, ns, n, msg, fix}
			want := []string{tc.code, tc.kind, tc.ns, tc.name, tc.msg, tc.fix}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("code, kind, namespace, name, message, fix (-want +got):\n%s", d)
			}
		})
	}
}

func TestFieldErrorFixInText(t *testing.T) {
	e := &FieldError{File: "f.yaml", Line: 3, Object: "Secret default/s", Path: "data", Msg: "the key does not match.", Fix: "issue a new one."}
	if got, want := e.Error(), "f.yaml:3: Secret default/s: data: the key does not match. Fix: issue a new one."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
