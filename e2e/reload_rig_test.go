package e2e_test

import (
	"context"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/internal/slowwrite"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/source/file"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// Timings of the reload-safety tests: files written in place must settle
// for rigSettle; the writers pause for rigPause between lines, well below
// it, so a load between two lines would be the watcher's fault, not a
// scheduling hiccup of this (shared, two-core) machine.
const (
	rigDebounce = 20 * time.Millisecond
	rigSettle   = 300 * time.Millisecond
	rigPause    = 40 * time.Millisecond
)

// rig is `trustgate serve` in process over a configuration directory and
// a secrets directory, with a SotW and a delta fake Envoy of one group
// recording every response.
type rig struct {
	t       *testing.T
	cfgDir  string
	secrets string
	labels  map[string]string
	admin   http.Handler
	envoys  map[string]*envoytest.Client
	writes  atomic.Int64 // write calls made by the test's writers

	mu   sync.Mutex
	slow slowwrite.Stats // of the writes in place
}

// newRig makes the directories; state compiles the states the test will
// write, then start serves the first.
func newRig(t *testing.T, secrets string, labels map[string]string) *rig {
	t.Helper()
	r := &rig{t: t, cfgDir: filepath.Join(t.TempDir(), "config"), secrets: secrets, labels: labels, envoys: map[string]*envoytest.Client{}}
	mustDo(t, os.Mkdir(r.cfgDir, 0o755))
	return r
}

// state writes files into the configuration directory and returns the
// resources the rig's group gets from them with the current secrets, or the
// load error. Only before start: the files are written as they are.
func (r *rig) state(files map[string]string) (map[string][]proto.Message, error) {
	r.t.Helper()
	if r.admin != nil {
		r.t.Fatal("rig.state after start")
	}
	r.setFiles(files)
	cfg, err := compile.Load(r.loadOptions(), compile.ForServe())
	if err != nil {
		return nil, err
	}
	res, err := cfg.Compile(r.labels)
	if err != nil {
		return nil, err
	}
	return envoytest.ByType(res.All()), nil
}

// mustState is state for a state that must load.
func (r *rig) mustState(files map[string]string) map[string][]proto.Message {
	r.t.Helper()
	st, err := r.state(files)
	mustDo(r.t, err)
	return st
}

// start serves files and connects the fake Envoys.
func (r *rig) start(files map[string]string) {
	t := r.t
	t.Helper()
	r.setFiles(files)
	r.writes.Store(0)
	admin, addr := serveFiles(t, file.Options{Input: r.loadOptions(), Debounce: rigDebounce, Settle: rigSettle})
	r.admin = admin
	for name, delta := range map[string]bool{"sotw": false, "delta": true} {
		e, err := envoytest.Dial(context.Background(), addr, envoytest.Options{NodeID: "gw-" + name, Labels: r.labels, Delta: delta})
		mustDo(t, err)
		t.Cleanup(func() { _ = e.Close() })
		_, err = e.WaitComplete(10 * time.Second)
		mustDo(t, err)
		r.envoys[name] = e
	}
}

func (r *rig) loadOptions() model.LoadOptions {
	return model.LoadOptions{Paths: []string{r.cfgDir}, SecretsDirs: []string{r.secrets}}
}

// setFiles makes the configuration directory hold exactly files.
func (r *rig) setFiles(files map[string]string) {
	r.t.Helper()
	entries, err := os.ReadDir(r.cfgDir)
	mustDo(r.t, err)
	for _, e := range entries {
		if _, keep := files[e.Name()]; !keep {
			mustDo(r.t, os.Remove(filepath.Join(r.cfgDir, e.Name())))
		}
	}
	for name, content := range files {
		r.replace(name, content)
	}
}

// replace writes a file atomically: a temporary file, renamed into place.
func (r *rig) replace(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.cfgDir, name)
	tmp := filepath.Join(r.cfgDir, "."+name+".tmp")
	mustDo(r.t, os.WriteFile(tmp, []byte(content), 0o644))
	mustDo(r.t, os.Rename(tmp, p))
	r.writes.Add(1)
}

// writeInPlace rewrites a file in place, line by line, pausing between
// lines (package slowwrite): every line boundary's truncation of the new
// content sits on disk for rigPause.
func (r *rig) writeInPlace(name, content string) {
	r.t.Helper()
	st, err := slowwrite.InPlace(filepath.Join(r.cfgDir, name), content, rigPause)
	mustDo(r.t, err)
	r.mu.Lock()
	r.slow.Add(st)
	r.mu.Unlock()
	r.writes.Add(int64(st.Writes))
}

// reloads is the number of reloads the server recorded.
func (r *rig) reloads() int { return reloadStatus(r.t, r.admin).Reloads }

// waitReload waits for a reload after since that satisfies ok.
func (r *rig) waitReload(since int, ok func(server.ReloadStatus) bool) server.ReloadStatus {
	r.t.Helper()
	return waitReload(r.t, r.admin, since, ok)
}

// waitFor waits until every fake Envoy holds the listeners, clusters,
// routes and secrets of want.
func (r *rig) waitFor(what string, want map[string][]proto.Message) {
	r.t.Helper()
	for _, name := range slices.Sorted(maps.Keys(r.envoys)) {
		_, err := r.envoys[name].Wait(10*time.Second, what, func(v envoytest.View) bool {
			return sameResources(v.Listeners, want[envoytest.ListenerType]) && sameResources(v.Clusters, want[envoytest.ClusterType]) &&
				sameResources(v.Routes, want[envoytest.RouteType]) && sameResources(v.Secrets, want[envoytest.SecretType])
		})
		mustDo(r.t, err)
	}
}

func sameResources[M proto.Message](have map[string]M, want []proto.Message) bool {
	if len(have) != len(want) {
		return false
	}
	for _, w := range want {
		h, ok := have[envoytestName(w)]
		if !ok || !proto.Equal(h, w) {
			return false
		}
	}
	return true
}

// envoytestName is a resource's name as the fake Envoy keys it.
func envoytestName(m proto.Message) string {
	f := m.ProtoReflect().Descriptor().Fields().ByName("name")
	if f == nil {
		f = m.ProtoReflect().Descriptor().Fields().ByName("cluster_name")
	}
	return m.ProtoReflect().Get(f).String()
}

// check asserts that every response every fake Envoy received came from
// a state in allowed, and returns the number of responses.
func (r *rig) check(allowed *envoytest.FullStates) int {
	r.t.Helper()
	n := 0
	for _, name := range slices.Sorted(maps.Keys(r.envoys)) {
		rs := r.envoys[name].Responses()
		n += len(rs)
		for _, p := range allowed.Check(rs) {
			r.t.Errorf("%s: %s", name, p)
		}
	}
	return n
}
