package envoymodeltest

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/explain"
	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/translate"
)

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// GoldenCases lists compile/testdata/*.in.yaml.
func GoldenCases(t *testing.T) []string {
	t.Helper()
	in, err := filepath.Glob(filepath.Join(Root(), "compile", "testdata", "*.in.yaml"))
	if err != nil || len(in) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	return in
}

// Group is one proxy group's resources.
type Group struct {
	Labels    string
	LabelMap  map[string]string
	Resources *envoymodel.Resources
	// Raw is what the pipeline compiled.
	Raw *translate.Resources
}

var labelsLine = regexp.MustCompile(`(?m)^# labels: (.*)$`)

// CompileGolden runs the pipeline on a golden input, as TestGolden does,
// for its "# labels:" group or every Gateway selector.
func CompileGolden(t *testing.T, p *PKI, in string) []Group {
	t.Helper()
	_, groups := LoadGolden(t, p, in)
	return groups
}

// LoadGolden is CompileGolden that also returns the loaded objects.
func LoadGolden(t *testing.T, p *PKI, in string) (*model.Config, []Group) {
	t.Helper()
	src, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, filepath.Base(in))
	if err := os.WriteFile(path, p.Expand(t, src, true), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{p.Dir}}
	if bytes.Contains(src, []byte("\n# secrets-dir: none\n")) {
		opts.SecretsDirs = nil
	}
	var labels []map[string]string
	if m := labelsLine.FindSubmatch(src); m != nil {
		l := map[string]string{}
		for _, kv := range strings.Split(strings.TrimSpace(string(m[1])), ",") {
			k, v, _ := strings.Cut(kv, "=")
			l[k] = v
		}
		labels = append(labels, l)
	}
	cfg, groups := compileGroups(t, opts, labels)
	return cfg.Model(), groups
}

// CompileDir runs the pipeline on a configuration directory (an example)
// with a secrets directory, for every Gateway selector.
func CompileDir(t *testing.T, configDir, secretsDir string) []Group {
	t.Helper()
	_, groups := compileGroups(t, model.LoadOptions{Paths: []string{configDir}, SecretsDirs: []string{secretsDir}}, nil)
	return groups
}

// compileGroups loads and builds every requested group.
func compileGroups(t *testing.T, opts model.LoadOptions, labels []map[string]string) (*compile.Config, []Group) {
	t.Helper()
	cfg, err := compile.Load(opts, compile.WithExpiryWarning(0))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg, groupsOf(t, cfg, labels)
}

// groupsOf builds every requested group of a loaded configuration (every
// Gateway selector when labels is nil).
func groupsOf(t *testing.T, cfg *compile.Config, labels []map[string]string) []Group {
	t.Helper()
	if labels == nil {
		labels = cfg.Selectors()
	}
	if len(labels) == 0 {
		labels = []map[string]string{{}}
	}
	var out []Group
	for _, l := range labels {
		res, err := cfg.Compile(l)
		if err != nil {
			t.Fatalf("compile %v: %v", l, err)
		}
		out = append(out, Group{Labels: labelset.Key(l), LabelMap: l, Resources: FromTranslate(res), Raw: res})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Labels < out[j].Labels })
	return out
}

// FromTranslate hands translate's resources to the model
// (explain.ModelResources).
func FromTranslate(r *translate.Resources) *envoymodel.Resources { return explain.ModelResources(r) }

// CompileYAML runs the pipeline on a configuration given as text (with
// ${B64:...} references into the PKI), for every Gateway selector.
func CompileYAML(t *testing.T, p *PKI, yaml string) []Group {
	t.Helper()
	_, groups := LoadYAML(t, p, yaml)
	return groups
}

// LoadYAML is CompileYAML that also returns the loaded objects.
func LoadYAML(t *testing.T, p *PKI, yaml string) (*model.Config, []Group) {
	t.Helper()
	cfg, err := LoadText(t, p, []byte(yaml), true)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg.Model(), groupsOf(t, cfg, nil)
}

// LoadText loads a configuration given as text, its ${B64:...} references
// into the PKI expanded (strict: every reference must name a file), with
// the PKI's secrets directory; the error is the configuration's (a fuzz
// target's input may well not load).
func LoadText(t testing.TB, p *PKI, src []byte, strict bool) (*compile.Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, p.Expand(t, src, strict), 0o600); err != nil {
		t.Fatal(err)
	}
	return compile.Load(model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{p.Dir}}, compile.WithExpiryWarning(0))
}
