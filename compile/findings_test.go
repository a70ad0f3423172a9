package compile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

// part is what a report shows of a finding, apart from the message.
type part struct {
	File, Kind, Namespace, Name, Code string
	Line                              int
	HasFix, Warning                   bool
}

func partOf(e *model.FieldError, dir string) part {
	kind, ns, name := e.ObjectRef()
	_, fix := e.Parts()
	return part{File: strings.TrimPrefix(e.File, dir+string(filepath.Separator)), Line: e.Line, Kind: kind, Namespace: ns, Name: name,
		Code: e.EffectiveCode(), HasFix: fix != "", Warning: e.Warning}
}

// TestFindingsHaveParts checks that certificate diagnoses and warnings
// come with their location, object, code and fix as parts, for check -o
// json: a diagnosis of a Secret document sits at the document, one of a
// secrets-directory entry at its directory.
func TestFindingsHaveParts(t *testing.T) {
	dir := t.TempDir()
	secrets := serverPKI(t, dir, "app.example.com")
	cert, err := os.ReadFile(filepath.Join(secrets, "server", "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(secrets, "server", "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	indent := func(b []byte) string {
		return "    " + strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n    ")
	}
	doc := "---\napiVersion: v1\nkind: Secret\nmetadata: {name: doc, namespace: edge}\nstringData:\n  tls.crt: |\n" + indent(cert) + "\n  tls.key: |\n" + indent(key) + "\n"
	gateway := func(host, cred string) string {
		return strings.NewReplacer("HOST", host, "MODE", "MUTUAL", "credentialName: server", "credentialName: "+cred).Replace(diagGateway)
	}
	tests := map[string]struct {
		yaml   string
		expiry time.Duration
		want   part // among the errors, or else the warnings
	}{
		"a Secret document's diagnosis sits at the document": {
			yaml: gateway("www.example.com", "doc") + doc,
			want: part{File: "gw.yaml", Line: 21, Kind: "Secret", Namespace: "edge", Name: "doc", Code: "san-mismatch", HasFix: true},
		},
		"a secrets-directory entry's at its directory": {
			yaml: gateway("app.example.com", "server"), expiry: 100 * 365 * 24 * time.Hour,
			want: part{File: filepath.Join("secrets", "server"), Kind: "Secret", Name: "server", Code: "expiring-soon", HasFix: true, Warning: true},
		},
		"a configuration warning": {
			yaml: gateway("app.example.com", "server") + doc,
			want: part{File: "gw.yaml", Line: 21, Kind: "Secret", Namespace: "edge", Name: "doc", Code: "risk", Warning: true},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfgFile := filepath.Join(dir, "gw.yaml")
			if err := os.WriteFile(cfgFile, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := compile.Load(model.LoadOptions{Paths: []string{cfgFile}, SecretsDirs: []string{secrets}}, compile.WithExpiryWarning(tc.expiry))
			var found []*model.FieldError
			var list *model.ErrorList
			switch {
			case errors.As(err, &list):
				found = list.Errs
			case err != nil:
				t.Fatalf("error %v, want a list of user errors", err)
			default:
				found = cfg.Findings()
			}
			var got []part
			for _, e := range found {
				p := partOf(e, dir)
				if p == tc.want {
					return
				}
				got = append(got, p)
			}
			t.Errorf("no finding %+v among:\n%+v\n%v", tc.want, got, err)
		})
	}
}
