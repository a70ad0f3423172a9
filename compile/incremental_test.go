package compile_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/internal/protowalk"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/translate"
)

// editHost is one host of the edited configuration: a Gateway server and a
// VirtualService document.
type editHost struct {
	id, rev int
	file    int    // the file holding its VirtualService
	pad     int    // comment lines above its VirtualService
	bad     string // "", "decode" (a type error) or "validate" (a bad regex)
}

// editState is the configuration the edits change; render writes it.
type editState struct {
	hosts   []*editHost
	next    int
	gwFile  int
	filePad [3]int
	syntax  int // the file with a YAML syntax error, -1: none
	now     time.Time
	// drRev is the revision of each backend's DestinationRule (0: none),
	// seRev web-1's ServiceEntry's (its endpoint 10.0.0.seRev); policyHost
	// the host a ClientCertificatePolicy with identity headers names (-1:
	// none); authz whether an AuthorizationPolicy allows only GETs. All in
	// f0: what a host's server reads besides its VirtualService (the memo's
	// world, irbuild.Memo), and what the passes after the servers change.
	drRev      [3]int
	seRev      int
	policyHost int
	authz      bool
}

func (s *editState) render(t *testing.T, dir string) {
	t.Helper()
	var files [3][]string
	var gw strings.Builder
	gw.WriteString("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n")
	for _, h := range s.hosts {
		fmt.Fprintf(&gw, "  - name: h%d\n    port: {number: 443, name: https-%d, protocol: HTTPS}\n    hosts: [h%d.example.com]\n    tls: {mode: MUTUAL, credentialName: wildcard, caCertCredentialName: client-ca}\n", h.id, h.id, h.id)
	}
	files[s.gwFile] = append(files[s.gwFile], gw.String())
	for _, h := range s.hosts {
		var d strings.Builder
		d.WriteString(strings.Repeat("# moved down\n", h.pad))
		port, prefix := "8080", fmt.Sprintf("/r%d", h.rev)
		switch h.bad {
		case "decode":
			port = "8o80"
		case "validate":
			prefix = ""
		}
		fmt.Fprintf(&d, "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: h%d, namespace: edge}\nspec:\n  hosts: [h%d.example.com]\n  gateways: [gw]\n  http:\n", h.id, h.id)
		if prefix == "" {
			d.WriteString("  - match: [{uri: {regex: \"a(b\"}}]\n")
		} else {
			fmt.Fprintf(&d, "  - match: [{uri: {prefix: %s}}]\n", prefix)
		}
		fmt.Fprintf(&d, "    route: [{destination: {host: web-%d.internal, port: {number: %s}}}]\n", h.id%3, port)
		files[h.file] = append(files[h.file], d.String())
	}
	for i, rev := range s.drRev {
		if rev > 0 {
			files[0] = append(files[0], fmt.Sprintf("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web-%d, namespace: edge}\nspec:\n  host: web-%d.internal\n  trafficPolicy: {connectionPool: {tcp: {maxConnections: %d}}}\n", i, i, rev))
		}
	}
	if s.seRev > 0 {
		files[0] = append(files[0], fmt.Sprintf("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: web-1, namespace: edge}\nspec:\n  hosts: [web-1.internal]\n  location: MESH_INTERNAL\n  resolution: STATIC\n  ports: [{number: 8080, name: http, protocol: HTTP}]\n  endpoints: [{address: 10.0.0.%d}]\n", s.seRev))
	}
	if s.policyHost >= 0 {
		files[0] = append(files[0], fmt.Sprintf("apiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: ids, namespace: edge}\nspec:\n  targetRef: {group: networking.istio.io, kind: Gateway, name: gw, sectionName: h%d}\n  identityHeaders: {subject: x-client-subject}\n", s.policyHost))
	}
	if s.authz {
		files[0] = append(files[0], "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: gets, namespace: edge}\nspec:\n  targetRef: {group: networking.istio.io, kind: Gateway, name: gw}\n  action: ALLOW\n  rules: [{to: [{operation: {methods: [GET]}}]}]\n")
	}
	for i, docs := range files {
		path := filepath.Join(dir, fmt.Sprintf("f%d.yaml", i))
		if len(docs) == 0 {
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			continue
		}
		text := strings.Repeat("# header\n", s.filePad[i]) + strings.Join(docs, "---\n")
		if s.syntax == i {
			text += "---\napiVersion: v1\nkind: Secret\nmetadata: {name: broken\n"
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// broken reports whether the configuration has an error.
func (s *editState) broken() bool {
	return s.syntax >= 0 || slices.ContainsFunc(s.hosts, func(h *editHost) bool { return h.bad != "" })
}

// edit applies one random edit and says which; an error, once made, is
// mostly fixed by the next edit, so that most loads succeed.
func (s *editState) edit(t *testing.T, r *rand.Rand, secrets string) string {
	t.Helper()
	if s.broken() && r.IntN(3) != 0 {
		s.syntax = -1
		for _, h := range s.hosts {
			h.bad = ""
		}
		return "fix every error"
	}
	h := s.hosts[r.IntN(len(s.hosts))]
	switch r.IntN(15) {
	case 14:
		if s.seRev > 0 && r.IntN(3) == 0 {
			s.seRev = 0
			return "remove web-1's ServiceEntry"
		}
		s.seRev++
		return fmt.Sprintf("web-1's ServiceEntry, endpoint 10.0.0.%d", s.seRev)
	case 11:
		i := r.IntN(len(s.drRev))
		if s.drRev[i] > 0 && r.IntN(3) == 0 {
			s.drRev[i] = 0
			return fmt.Sprintf("remove web-%d's DestinationRule", i)
		}
		s.drRev[i]++
		return fmt.Sprintf("web-%d's DestinationRule, revision %d", i, s.drRev[i])
	case 12:
		if s.policyHost >= 0 && r.IntN(2) == 0 {
			s.policyHost = -1
			return "remove the identity-header policy"
		}
		s.policyHost = h.id
		return fmt.Sprintf("identity headers on h%d", h.id)
	case 13:
		s.authz = !s.authz
		return fmt.Sprintf("authorization policy: %v", s.authz)
	case 0, 1:
		h.rev++
		return fmt.Sprintf("route of h%d", h.id)
	case 2:
		s.hosts = append(s.hosts, &editHost{id: s.next, file: r.IntN(3)})
		s.next++
		return fmt.Sprintf("add h%d", s.next-1)
	case 3:
		if len(s.hosts) == 1 {
			return "nothing (one host left)"
		}
		s.hosts = slices.DeleteFunc(s.hosts, func(x *editHost) bool { return x == h })
		return fmt.Sprintf("remove h%d", h.id)
	case 4:
		if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "wildcard", Hosts: []string{"*.example.com"}, Replace: true, Now: s.now}); err != nil {
			t.Fatal(err)
		}
		return "rotate the certificate"
	case 5:
		s.now = s.now.Add(time.Minute)
		if err := certs.WriteCRLs(secrets, certs.CRLOptions{Now: s.now}); err != nil {
			t.Fatal(err)
		}
		return "rotate the CRLs"
	case 6:
		if s.syntax >= 0 {
			s.syntax = -1
			return "fix the syntax error"
		}
		s.syntax = h.file
		return fmt.Sprintf("syntax error in f%d", h.file)
	case 7, 8:
		if h.bad != "" {
			h.bad = ""
			return fmt.Sprintf("fix h%d", h.id)
		}
		h.bad = []string{"decode", "validate"}[r.IntN(2)]
		return fmt.Sprintf("%s error in h%d", h.bad, h.id)
	case 9:
		if r.IntN(2) == 0 {
			s.gwFile = r.IntN(3)
			return fmt.Sprintf("move the Gateway to f%d", s.gwFile)
		}
		h.file = r.IntN(3)
		return fmt.Sprintf("move h%d to f%d", h.id, h.file)
	default:
		if r.IntN(2) == 0 {
			f := r.IntN(3)
			s.filePad[f] += 1 + r.IntN(3)
			return fmt.Sprintf("insert lines at the top of f%d", f)
		}
		h.pad += 1 + r.IntN(3)
		return fmt.Sprintf("insert lines above h%d", h.id)
	}
}

// TestIncrementalEqualsCold applies random sequences of edits and checks
// after each that a load with a cache held across all of them gives exactly
// what a load without one gives: errors and warnings with their file:line,
// the loaded objects with their positions, and every resource and version
// of the declared proxy group and of one no Gateway selects.
func TestIncrementalEqualsCold(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			root := t.TempDir()
			dir, secrets := filepath.Join(root, "config"), filepath.Join(root, "secrets")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := certs.Init(secrets, certs.InitOptions{CRL: true, Now: now}); err != nil {
				t.Fatal(err)
			}
			if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "wildcard", Hosts: []string{"*.example.com"}, Now: now}); err != nil {
				t.Fatal(err)
			}
			s := &editState{syntax: -1, now: now, policyHost: -1}
			for range 6 {
				s.hosts = append(s.hosts, &editHost{id: s.next, file: s.next % 3})
				s.next++
			}
			opts := model.LoadOptions{Paths: []string{dir}, SecretsDirs: []string{secrets}}
			clock := compile.WithClock(func() time.Time { return now.Add(time.Hour) })
			cache := compile.NewCache()
			r := rand.New(rand.NewPCG(seed, 16))
			what := "first load"
			good, bad := 0, 0
			for step := range 60 {
				s.render(t, dir)
				if loadBoth(t, fmt.Sprintf("step %d (%s)", step, what), opts, clock, cache) {
					good++
				} else {
					bad++
				}
				what = s.edit(t, r, secrets)
			}
			st := cache.Stats()
			t.Logf("%d good loads, %d failed; cache %+v", good, bad, st)
			if good < 10 || bad < 5 || st.Documents.Hits == 0 || st.Validations.Hits == 0 || st.Servers.Hits == 0 || st.Resources.Hits == 0 {
				t.Errorf("the edits exercised too little: %d good loads, %d failed; cache %+v", good, bad, st)
			}
		})
	}
}

// loadBoth loads opts with cache and without, fails the test unless both
// give the same errors or the same configuration, and reports whether the
// load was good.
func loadBoth(t *testing.T, step string, opts model.LoadOptions, clock compile.Option, cache *compile.Cache) bool {
	t.Helper()
	warm, warmErr := compile.Load(opts, compile.ForServe(), clock, compile.WithCache(cache))
	cold, coldErr := compile.Load(opts, compile.ForServe(), clock)
	if d := cmp.Diff(errText(coldErr), errText(warmErr)); d != "" {
		t.Fatalf("%s: errors (-cold +cached):\n%s", step, d)
	}
	if coldErr != nil {
		if os.Getenv("EDITS_DEBUG") != "" {
			t.Logf("%s: %v", step, coldErr)
		}
		return false
	}
	sameConfig(t, step, cold, warm)
	return true
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sameConfig fails unless two loads are the same in everything the server
// and the commands read.
func sameConfig(t *testing.T, step string, cold, warm *compile.Config) {
	t.Helper()
	if d := cmp.Diff(cold.Warnings(), warm.Warnings()); d != "" {
		t.Fatalf("%s: warnings (-cold +cached):\n%s", step, d)
	}
	findings := func(c *compile.Config) []string {
		var out []string
		for _, f := range c.Findings() {
			out = append(out, fmt.Sprintf("%s|%d|%s|%s|%s|%s", f.File, f.Line, f.Object, f.Path, f.Code, f.Error()))
		}
		return out
	}
	if d := cmp.Diff(findings(cold), findings(warm)); d != "" {
		t.Fatalf("%s: findings (-cold +cached):\n%s", step, d)
	}
	if d := cmp.Diff(cold.Model(), warm.Model(), cmpopts.IgnoreUnexported(model.Config{})); d != "" {
		t.Fatalf("%s: loaded objects (-cold +cached):\n%s", step, d)
	}
	for _, labels := range []map[string]string{{"istio": "ingressgateway"}, {"app": "other"}} {
		c, cerr := cold.Compile(labels)
		w, werr := warm.Compile(labels)
		if d := cmp.Diff(errText(cerr), errText(werr)); d != "" {
			t.Fatalf("%s: compile %v errors (-cold +cached):\n%s", step, labels, d)
		}
		if d := cmp.Diff(c, w, protocmp.Transform()); d != "" {
			t.Fatalf("%s: resources of %v (-cold +cached):\n%s", step, labels, d)
		}
		if d := cmp.Diff(versions(t, c), versions(t, w)); d != "" {
			t.Fatalf("%s: versions of %v (-cold +cached):\n%s", step, labels, d)
		}
	}
}

// versions are the server's per-type versions: SHA-256 over each
// resource's name and deterministic bytes, in name order.
func versions(t *testing.T, r *translate.Resources) map[string]string {
	t.Helper()
	if r == nil {
		return nil
	}
	out := map[string]string{}
	for _, m := range r.All() {
		typ := string(m.ProtoReflect().Descriptor().FullName())
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256([]byte(out[typ] + fmt.Sprintf("%d:", len(b)) + string(b)))
		out[typ] = fmt.Sprintf("%x", h)
	}
	return out
}

// TestCacheAcrossGoldenCases loads every golden case, in turn and then
// again, through one cache, and checks each load against a load without
// it: the cases hold every kind (Secret documents, ConfigMaps, policies),
// and successive cases share some documents and none of their files.
func TestCacheAcrossGoldenCases(t *testing.T) {
	pki := goldenPKI(t)
	ins, err := filepath.Glob(filepath.Join("testdata", "*.in.yaml"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	cache := compile.NewCache()
	clock := compile.WithClock(func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) })
	for round := range 2 {
		for _, in := range ins {
			_, opts := caseOptions(t, pki, in)
			step := fmt.Sprintf("round %d, %s", round, filepath.Base(in))
			warm, warmErr := compile.Load(opts, clock, compile.WithCache(cache))
			cold, coldErr := compile.Load(opts, clock)
			if d := cmp.Diff(errText(coldErr), errText(warmErr)); d != "" {
				t.Fatalf("%s: errors (-cold +cached):\n%s", step, d)
			}
			if coldErr == nil {
				sameConfig(t, step, cold, warm)
			}
		}
	}
	if st := cache.Stats(); st.Documents.Hits == 0 || st.Resources.Hits == 0 {
		t.Errorf("the cache was never used: %+v", st)
	}
}

// TestWalkModesSameVisits: the walk translate's checks use (changes to a
// typed config not packed back) visits the same messages, in the same
// order, as the walk that packs changes back, over every resource of every
// golden case.
func TestWalkModesSameVisits(t *testing.T) {
	pki := goldenPKI(t)
	ins, err := filepath.Glob(filepath.Join("testdata", "*.in.yaml"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	walked := 0
	for _, in := range ins {
		src, opts := caseOptions(t, pki, in)
		cfg, err := compile.Load(opts, compile.WithExpiryWarning(0))
		if err != nil {
			continue // cases of errors have no resources
		}
		res, err := cfg.Compile(caseLabels(t, cfg, src))
		if err != nil {
			continue
		}
		for _, m := range res.All() {
			if d := cmp.Diff(visits(t, m, true), visits(t, m, false)); d != "" {
				t.Fatalf("%s: %s: visits (-packing back +not):\n%s", in, m.ProtoReflect().Descriptor().FullName(), d)
			}
			walked++
		}
	}
	if walked == 0 {
		t.Fatal("no resource walked")
	}
}

func visits(t *testing.T, m proto.Message, packBack bool) []string {
	t.Helper()
	var out []string
	err := protowalk.Walker{PackBack: packBack, Visit: func(m proto.Message, in *anypb.Any) error {
		out = append(out, fmt.Sprintf("%s in %q (%d bytes)", m.ProtoReflect().Descriptor().FullName(), in.GetTypeUrl(), proto.Size(m)))
		return nil
	}}.Walk(proto.Clone(m))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
