package examples_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/internal/slowwrite"
	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/source/file"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// Timings: a file written in place must settle for exampleSettle; the
// writer pauses examplePause before each line, far below it (several
// examples run at once on a small machine).
const (
	exampleSettle = 300 * time.Millisecond
	examplePause  = 40 * time.Millisecond
)

// served is an example copied to a temporary directory, compiled for each
// of its proxy groups, and served with a SotW and a delta fake Envoy per
// group.
type served struct {
	ex      *example
	dir     string   // the copy of the example's configuration files
	files   []string // their names
	paths   []string // the configuration paths (dir, and files certs.sh made)
	full    *envoytest.FullStates
	admin   http.Handler
	clients []*envoytest.Client
}

func serveExample(t *testing.T, ex *example) *served {
	t.Helper()
	s := &served{ex: ex, dir: t.TempDir()}
	for _, src := range checkLayout(t, ex.dir) {
		b, err := os.ReadFile(src)
		must(t, err)
		name := strings.ReplaceAll(strings.TrimPrefix(src, ex.dir+string(filepath.Separator)), string(filepath.Separator), "_")
		must(t, os.WriteFile(filepath.Join(s.dir, name), b, 0o644))
		s.files = append(s.files, name)
	}
	generated, err := filepath.Glob(filepath.Join(ex.certs, "*.yaml"))
	must(t, err)
	s.paths = append([]string{s.dir}, generated...)

	cfg, err := compile.Load(s.loadOptions(), compile.ForServe())
	must(t, err)
	var states []map[string][]proto.Message
	for _, l := range cfg.Selectors() {
		res, err := cfg.Compile(l)
		must(t, err)
		states = append(states, envoytest.ByType(res.All()))
	}
	// The groups' states are disjoint in what each group is sent; one set
	// of full states serves every group's clients.
	s.full = envoytest.NewFullStates(states...)

	src, err := file.New(file.Options{Input: s.loadOptions(), Debounce: 20 * time.Millisecond, Settle: exampleSettle})
	must(t, err)
	srv, err := server.New(server.Options{
		AdminHosts: []string{"example.com"}, // httptest.NewRequest's Host
		Source:     src,
	})
	must(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	s.admin = srv.AdminHandler()
	for i, l := range cfg.Selectors() {
		for _, delta := range []bool{false, true} {
			c, err := envoytest.Dial(context.Background(), lis.Addr().String(), envoytest.Options{
				NodeID: fmt.Sprintf("%s-%d-%v", ex.name, i, delta), Labels: l, Delta: delta,
			})
			must(t, err)
			t.Cleanup(func() { _ = c.Close() })
			_, err = c.WaitComplete(10 * time.Second)
			must(t, err)
			s.clients = append(s.clients, c)
		}
	}
	return s
}

func (s *served) loadOptions() model.LoadOptions {
	return model.LoadOptions{Paths: s.paths, SecretsDirs: []string{s.ex.certs}}
}

func (s *served) reloadStatus(t *testing.T) server.ReloadStatus {
	t.Helper()
	rec := httptest.NewRecorder()
	s.admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/reload", nil))
	var st server.ReloadStatus
	must(t, json.Unmarshal(rec.Body.Bytes(), &st))
	return st
}

// TestExamplesRewrittenInPlace serves every example and rewrites each of
// its files in place, a line at a time, pausing before each line for less
// than the settle time: the file passes through its truncation at every
// line boundary. No proxy may be sent anything but the example as written
// in full; and once the file is whole again, it loads.
func TestExamplesRewrittenInPlace(t *testing.T) {
	var mu sync.Mutex
	var total slowwrite.Stats
	var responses, bad int
	t.Run("examples", func(t *testing.T) {
		for _, name := range exampleDirs(t) {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := serveExample(t, prepare(t, name))
				var stats slowwrite.Stats
				for _, f := range s.files {
					b, err := os.ReadFile(filepath.Join(s.dir, f))
					must(t, err)
					since := s.reloadStatus(t).Reloads
					st, err := slowwrite.InPlace(filepath.Join(s.dir, f), string(b), examplePause)
					must(t, err)
					stats.Add(st)
					waitFor(t, f+" to load once whole", func() error {
						if st := s.reloadStatus(t); st.Reloads <= since || !st.OK {
							return fmt.Errorf("reloads %d (before %d), ok %v, errors %q", st.Reloads, since, st.OK, st.Errors)
						}
						return nil
					})
				}
				n, problems := 0, 0
				for _, c := range s.clients {
					rs := c.Responses()
					n += len(rs)
					for _, p := range s.full.Check(rs) {
						t.Errorf("%s", p)
						problems++
					}
				}
				if stats.MaxGap >= exampleSettle {
					t.Errorf("a write stalled %v, not less than the settle time %v: this run proves nothing", stats.MaxGap, exampleSettle)
				}
				mu.Lock()
				total.Add(stats)
				responses += n
				bad += problems
				mu.Unlock()
			})
		}
	})
	t.Logf("figures: writes tried %d (every line boundary of every example file), responses received %d, responses with an intermediate state %d, longest stall mid-file %v (settle %v)",
		total.Writes, responses, bad, total.MaxGap.Round(time.Millisecond), exampleSettle)
}

// Outcomes of loading an example with one file cut at a line boundary.
const (
	cutRefused     = "refused"
	cutSame        = "same as the whole file"         // only comments or blank lines were cut
	cutWholeDocs   = "whole documents, fewer of them" // cut between documents
	cutMidDocument = "cut inside a document, loaded"
)

// TestExampleTruncations loads every example with each of its files cut at
// every line boundary, as an interrupted copy leaves it, and sorts the
// outcomes. A cut that loads must be a file of whole documents (or lose
// nothing but comments); the cuts inside a document that still load are
// listed: nothing in the file can tell them from an intended edit, which is
// why files are read only once settled and atomic writes are recommended.
func TestExampleTruncations(t *testing.T) {
	var mu sync.Mutex
	counts := map[string]int{}
	var mid []string
	t.Run("examples", func(t *testing.T) {
		for _, name := range exampleDirs(t) {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ex := prepare(t, name)
				dir := t.TempDir()
				var files []string
				for _, src := range checkLayout(t, ex.dir) {
					b, err := os.ReadFile(src)
					must(t, err)
					base := filepath.Base(src)
					must(t, os.WriteFile(filepath.Join(dir, base), b, 0o644))
					files = append(files, base)
				}
				generated, err := filepath.Glob(filepath.Join(ex.certs, "*.yaml"))
				must(t, err)
				opts := model.LoadOptions{Paths: append([]string{dir}, generated...), SecretsDirs: []string{ex.certs}}
				whole := compileAll(t, opts)
				for _, f := range files {
					b, err := os.ReadFile(filepath.Join(dir, f))
					must(t, err)
					lines := strings.SplitAfter(string(b), "\n")
					for k := range len(lines) {
						if k == len(lines)-1 && lines[k] == "" {
							break // the whole file
						}
						must(t, os.WriteFile(filepath.Join(dir, f), []byte(strings.Join(lines[:k], "")), 0o644))
						outcome := classify(opts, whole, lines, k)
						mu.Lock()
						counts[outcome]++
						if outcome == cutMidDocument {
							mid = append(mid, fmt.Sprintf("%s/%s after line %d", name, f, k))
						}
						mu.Unlock()
					}
					must(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
				}
			})
		}
	})
	slices.Sort(mid)
	n := 0
	for _, c := range counts {
		n += c
	}
	t.Logf("figures: %d truncations: %d %s, %d %s, %d %s, %d %s", n,
		counts[cutRefused], cutRefused, counts[cutSame], cutSame, counts[cutWholeDocs], cutWholeDocs, counts[cutMidDocument], cutMidDocument)
	for _, m := range mid {
		t.Logf("loads although cut inside a document: %s", m)
	}
}

// compileAll compiles a configuration for each of its groups; nil when it
// does not load.
func compileAll(t *testing.T, opts model.LoadOptions) map[string][]proto.Message {
	t.Helper()
	cfg, err := compile.Load(opts, compile.ForServe())
	if err != nil {
		return nil
	}
	out := map[string][]proto.Message{}
	for _, l := range cfg.Selectors() {
		res, err := cfg.Compile(l)
		if err != nil {
			return nil
		}
		out[labelset.Key(l)] = res.All()
	}
	return out
}

// classify loads the configuration with a file cut after line k.
func classify(opts model.LoadOptions, whole map[string][]proto.Message, lines []string, k int) string {
	cfg, err := compile.Load(opts, compile.ForServe())
	if err != nil {
		return cutRefused
	}
	got := map[string][]proto.Message{}
	for _, l := range cfg.Selectors() {
		res, err := cfg.Compile(l)
		if err != nil {
			return cutRefused
		}
		got[labelset.Key(l)] = res.All()
	}
	if sameGroups(whole, got) {
		return cutSame
	}
	// Cut between documents: what follows the cut, comments and blank
	// lines aside, starts a new document (or there is nothing).
	for _, l := range lines[k:] {
		switch s := strings.TrimSpace(l); {
		case s == "" || strings.HasPrefix(s, "#"):
			continue
		case s == "---":
			return cutWholeDocs
		default:
			return cutMidDocument
		}
	}
	return cutWholeDocs
}

func sameGroups(a, b map[string][]proto.Message) bool {
	if len(a) != len(b) {
		return false
	}
	for k, as := range a {
		bs, ok := b[k]
		if !ok || !slices.EqualFunc(as, bs, proto.Equal) {
			return false
		}
	}
	return true
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it returns nil, failing after ten seconds.
func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond) // polling an endpoint, bounded by the deadline
	}
}
