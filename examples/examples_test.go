package examples_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/translate"
)

// binDir holds the trustgate binary built by TestMain; it is put first on
// PATH so that every certs.sh uses it instead of building its own.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "trustgate-examples-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "examples:", err)
		return 1
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, "examples:", err)
		}
	}()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "trustgate"), "./cmd/trustgate")
	build.Dir = ".." // the repository root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "examples: building trustgate: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	return m.Run()
}

// example is one example directory, its certificates made and its
// configuration compiled for every proxy group.
type example struct {
	name  string
	dir   string
	certs string
	// groups maps labelset.Key(selector) to the resources
	// compiled for that proxy group.
	groups map[string]*translate.Resources
}

// group returns the resources of the proxy group with these labels
// ("k=v,k2=v2"), failing when the example has no such group.
func (ex *example) group(t *testing.T, labels string) *translate.Resources {
	t.Helper()
	res, ok := ex.groups[labels]
	if !ok {
		t.Fatalf("%s: no proxy group %q; groups: %v", ex.name, labels, sortedKeys(ex.groups))
	}
	return res
}

// exampleDirs lists the example directories: every directory here that is
// not hidden. A new example is picked up without touching the tests.
func exampleDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), "_") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("no example directories found")
	}
	return names
}

// TestExamples makes the certificates of every example with its certs.sh,
// loads and validates it, compiles it for every Gateway selector (which runs
// translate.Check: valid protos and references), and then checks the facts
// that make the example worth having (scenarioChecks).
func TestExamples(t *testing.T) {
	for _, name := range exampleDirs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ex := prepare(t, name)
			if check, ok := scenarioChecks[name]; ok {
				check(t, ex)
			}
		})
	}
}

// TestScenarioChecksNameExamples keeps scenarioChecks honest: a renamed or
// removed example must not leave its checks silently unused.
func TestScenarioChecksNameExamples(t *testing.T) {
	dirs := map[string]bool{}
	for _, d := range exampleDirs(t) {
		dirs[d] = true
	}
	for name := range scenarioChecks {
		if !dirs[name] {
			t.Errorf("scenarioChecks has %q, but there is no examples/%s", name, name)
		}
	}
}

// prepare checks the example's files, runs its certs.sh into a temporary
// directory, and compiles its configuration for every proxy group.
func prepare(t *testing.T, name string) *example {
	t.Helper()
	dir, err := filepath.Abs(name)
	if err != nil {
		t.Fatal(err)
	}
	configs := checkLayout(t, dir)
	ex := &example{name: name, dir: dir, certs: t.TempDir(), groups: map[string]*translate.Resources{}}
	runCertsScript(t, ex)

	// certs.sh may write configuration too (Secret objects): *.yaml at the
	// top of its output directory, which `--config .` picks up when the
	// certificates are in ./certs.
	generated, err := filepath.Glob(filepath.Join(ex.certs, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := compile.Load(model.LoadOptions{Paths: append(configs, generated...), SecretsDirs: []string{ex.certs}})
	if err != nil {
		t.Fatalf("compile.Load:\n%v", err)
	}
	selectors := cfg.Selectors()
	if len(selectors) == 0 {
		t.Fatal("the example has no Gateway selector, so no proxy group")
	}
	for _, labels := range selectors {
		key := labelset.Key(labels)
		res, err := cfg.Compile(labels)
		if err != nil {
			t.Fatalf("Compile(%s):\n%v", key, err)
		}
		if len(res.Listeners) == 0 {
			t.Errorf("Compile(%s): no listeners", key)
		}
		// Warnings are shown (go test -v), not failed on: several are
		// about the throw-away certificates themselves (e.g. a CRL's
		// nextUpdate within the expiry-warning window).
		out, err := cfg.Build(compile.Node{Labels: labels})
		if err != nil {
			t.Fatalf("Build(%s): %v", key, err)
		}
		for _, w := range out.Warnings {
			t.Logf("Build(%s): warning: %s", key, w)
		}
		ex.groups[key] = res
	}
	return ex
}

// checkLayout asserts the files every example has and returns its
// configuration files (YAML outside a local certs/ directory, which a user
// who ran certs.sh in place may have).
func checkLayout(t *testing.T, dir string) []string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatalf("every example needs a README.md: %v", err)
	}
	for _, want := range []string{"./certs.sh", "trustgate translate", "trustgate serve", "curl "} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not show %q", want)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "certs.sh"))
	if err != nil {
		t.Fatalf("every example needs a certs.sh: %v", err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf("certs.sh is not executable (mode %v)", st.Mode())
	}
	var configs []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir && (d.Name() == "certs" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			configs = append(configs, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(configs) == 0 {
		t.Fatal("no *.yaml configuration")
	}
	return configs
}

// runCertsScript runs certs.sh with the test's trustgate on PATH, writing to
// ex.certs, and checks that it honoured the output directory.
func runCertsScript(t *testing.T, ex *example) {
	t.Helper()
	local := filepath.Join(ex.dir, "certs")
	_, statErr := os.Stat(local)
	hadLocal := statErr == nil

	cmd := exec.Command("bash", filepath.Join(ex.dir, "certs.sh"), ex.certs)
	cmd.Dir = ex.dir
	cmd.Stdin = nil
	cmd.Env = append(os.Environ(),
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"CERTS_DIR="+ex.certs,
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("certs.sh: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(ex.certs, ".pki")); err != nil {
		t.Fatalf("certs.sh made no PKI in its output directory %s: %v", ex.certs, err)
	}
	if _, err := os.Stat(local); !hadLocal && err == nil {
		t.Errorf("certs.sh wrote %s although it was given %s", local, ex.certs)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
