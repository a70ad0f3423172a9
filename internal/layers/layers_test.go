package layers

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/trustgate/trustgate/"

// rule constrains the non-test dependencies, direct and indirect, of the
// packages that patterns match.
type rule struct {
	patterns []string
	// ours, when set, are the only trustgate packages (module-relative, with
	// their sub-packages) that may be dependencies.
	ours []string
	// deny are import-path prefixes no dependency may have: trustgate's
	// module-relative, others in full.
	deny []string
	// stdOnly allows no dependency outside the standard library but ours.
	stdOnly bool
}

var envoyAndGRPC = []string{"github.com/envoyproxy/", "github.com/cncf/xds/", "google.golang.org/protobuf", "google.golang.org/grpc"}

var rules = map[string]rule{
	"translate, dump and the server never see the model nor a source": {
		patterns: []string{"./xds/translate/...", "./xds/server/...", "./xds/dump/...", "./xds/bootstrap/...", "./xds/xdstls/...", "./xds/sendlimit/..."},
		deny:     []string{"model", "xds/irbuild", "compile", "source"},
	},
	"compile never sees the server nor a source": {
		patterns: []string{"./compile/..."},
		deny:     []string{"xds/server", "source"},
	},
	"the IR imports nothing of ours nor Envoy's": {
		patterns: []string{"./xds/ir"},
		ours:     []string{"xds/ir"},
		stdOnly:  true,
	},
	"the builder sees the model and the IR, not Envoy": {
		patterns: []string{"./xds/irbuild"},
		ours:     []string{"xds/irbuild", "xds/ir", "model", "labelset", "internal/envoyfmt", "internal/re2size", "internal/pembundle", "internal/regularfile", "internal/suggest", "internal/gencache"},
		deny:     envoyAndGRPC,
	},
	"the model sees no Envoy proto and no later stage": {
		patterns: []string{"./model/..."},
		ours:     []string{"model", "internal/envoyfmt", "internal/re2size", "internal/pembundle", "internal/regularfile", "internal/suggest", "internal/gencache"},
		deny:     envoyAndGRPC,
	},
	"certcheck is standard library only, and the PEM reader": {
		patterns: []string{"./certcheck/..."},
		ours:     []string{"certcheck", "internal/pembundle", "internal/rfc2253"},
		stdOnly:  true,
	},
	"the development PKI stands alone": {
		patterns: []string{"./certs/..."},
		ours:     []string{"certs", "internal/pembundle", "internal/rfc2253"},
		deny:     envoyAndGRPC,
	},
	"the label-set key is standard library only": {
		patterns: []string{"./labelset"},
		ours:     []string{"labelset"},
		stdOnly:  true,
	},
	"the binary links none of client-go's generated clients, informers, listers or election": {
		// Their package initialisers and pages cost every start of the
		// binary about 10 ms (docs/performance.md, "Sitting F"); the
		// Kubernetes source uses REST, dynamic and metadata clients and
		// its own election (source/kubernetes/clients.go, elect.go).
		patterns: []string{"./cmd/trustgate"},
		deny: []string{"k8s.io/client-go/kubernetes", "k8s.io/client-go/informers", "k8s.io/client-go/listers",
			"k8s.io/client-go/applyconfigurations", "k8s.io/client-go/tools/leaderelection", "k8s.io/client-go/discovery"},
	},
	"the leaf helpers import nothing of ours but each other": {
		patterns: []string{"./internal/envoyfmt", "./internal/re2size", "./internal/pembundle", "./internal/protowalk", "./internal/regularfile", "./internal/suggest", "./internal/startgc", "./internal/gencache", "./internal/rfc2253", "./internal/anymemo", "./internal/hugeheap"},
		ours:     []string{"internal/envoyfmt", "internal/re2size", "internal/pembundle", "internal/protowalk", "internal/regularfile", "internal/suggest", "internal/startgc", "internal/gencache", "internal/rfc2253", "internal/anymemo", "internal/hugeheap"},
	},
}

func TestDependencyRules(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	for name, r := range rules {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, dep := range deps(t, goTool, r.patterns) {
				if why := r.violation(dep); why != "" {
					t.Errorf("%s depends on %s: %s", strings.Join(r.patterns, " "), dep.path, why)
				}
			}
		})
	}
}

type dep struct {
	path     string
	standard bool
}

// deps lists the non-test dependencies of patterns, the packages themselves
// included, as `go list -deps` does.
func deps(t *testing.T, goTool string, patterns []string) []dep {
	t.Helper()
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}"}, patterns...)
	cmd := exec.Command(goTool, args...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var list []dep
	for line := range strings.Lines(string(out)) {
		path, std, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			t.Fatalf("go list printed %q", line)
		}
		list = append(list, dep{path: path, standard: std == "true"})
	}
	if len(list) == 0 {
		t.Fatalf("go list found no packages for %v", patterns)
	}
	return list
}

// violation says why r forbids d, or "" when it does not.
func (r rule) violation(d dep) string {
	if d.standard {
		return ""
	}
	rel, isOurs := strings.CutPrefix(d.path, module)
	name := d.path
	if isOurs {
		name = rel
	}
	if slices.ContainsFunc(r.deny, func(p string) bool { return under(name, p) }) {
		return "denied"
	}
	if isOurs && r.ours != nil && !slices.ContainsFunc(r.ours, func(p string) bool { return under(rel, p) }) {
		return "not one of " + strings.Join(r.ours, ", ")
	}
	if !isOurs && r.stdOnly {
		return "only the standard library is allowed"
	}
	return ""
}

// under reports whether path is p or inside it; a p ending in "/" or a
// non-path prefix such as "google.golang.org/grpc" matches by prefix.
func under(path, p string) bool {
	if strings.HasSuffix(p, "/") {
		return strings.HasPrefix(path, p)
	}
	return path == p || strings.HasPrefix(path, p+"/")
}
