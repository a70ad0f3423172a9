package server_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/source/file"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

// TestLoadRacingAWriteIsDropped: a file written while the loader reads it
// may have been read half-written, so the load is dropped (ErrInputsChanged,
// not a failure, nothing pushed) and done again once the file has settled.
func TestLoadRacingAWriteIsDropped(t *testing.T) {
	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.txt")
	must(t, os.WriteFile(routes, []byte("/"), 0o644))
	h := newHarness(t, fixture.Spec{})
	var loads, race atomic.Int32
	opts := h.options()
	load := func() (server.Config, error) {
		loads.Add(1)
		racing := race.CompareAndSwap(1, 2)
		if racing {
			// A writer rewrites the file in place while the load runs: the
			// load reads it half-written.
			must(t, os.WriteFile(routes, []byte("/,/ha"), 0o644))
		}
		b, err := os.ReadFile(routes)
		if err != nil {
			return nil, err
		}
		if racing {
			f, err := os.OpenFile(routes, os.O_APPEND|os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteString("lf")
			must(t, errors.Join(err, f.Close()))
		}
		h.set(func(h *harness) { h.spec.Prefixes = strings.Split(string(b), ",") })
		return h.load()
	}
	opts.Loader, opts.Source = nil, fileSource(t, file.Options{Load: load, Input: model.LoadOptions{Paths: []string{dir}}, Debounce: 10 * time.Millisecond, Settle: 100 * time.Millisecond})
	h.start(opts)
	e := h.ready(t, envoytest.Options{})
	mark, reloads := len(e.Responses()), h.reloadStatus().Reloads

	race.Store(1)
	if err := h.srv.Reload(context.Background()); !errors.Is(err, server.ErrInputsChanged) {
		t.Errorf("Reload = %v, want ErrInputsChanged", err)
	}
	if st := h.reloadStatus(); st.Reloads != reloads || !st.OK || st.Failures != 0 {
		t.Errorf("a dropped load was recorded: reloads %d (before %d), ok %v, failures %d", st.Reloads, reloads, st.OK, st.Failures)
	}
	if _, err := e.Wait(timeout, "the file as written in full", func(v envoytest.View) bool {
		return prefixes(v.Routes[fixture.RouteName]) == "/,/half"
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.Responses()[mark:] {
		for _, m := range r.Resources {
			if rc, ok := m.(*routev3.RouteConfiguration); ok && prefixes(rc) != "/,/half" {
				t.Errorf("a state read mid-write was pushed: routes %s", prefixes(rc))
			}
		}
	}
}

// TestAtomicReplacementsApplyAtOnce: with a settle time of an hour, a file
// renamed into place still applies after the debounce, while a file
// written in place is not read.
func TestAtomicReplacementsApplyAtOnce(t *testing.T) {
	dir := t.TempDir()
	routes := filepath.Join(dir, "routes.txt")
	must(t, os.WriteFile(routes, []byte("/"), 0o644))
	h := newHarness(t, fixture.Spec{})
	opts := h.options()
	const debounce = 10 * time.Millisecond
	load := func() (server.Config, error) {
		b, err := os.ReadFile(routes)
		if err != nil {
			return nil, err
		}
		h.set(func(h *harness) { h.spec.Prefixes = strings.Split(string(b), ",") })
		return h.load()
	}
	opts.Loader, opts.Source = nil, fileSource(t, file.Options{Load: load, Input: model.LoadOptions{Paths: []string{dir}}, Debounce: debounce, Settle: time.Hour})
	h.start(opts)
	e := h.ready(t, envoytest.Options{})

	tmp := filepath.Join(dir, ".routes.txt.tmp")
	must(t, os.WriteFile(tmp, []byte("/,/renamed"), 0o644))
	must(t, os.Rename(tmp, routes))
	if _, err := e.Wait(timeout, "the file renamed into place", func(v envoytest.View) bool {
		return prefixes(v.Routes[fixture.RouteName]) == "/,/renamed"
	}); err != nil {
		t.Fatal(err)
	}

	// The status is recorded just after the push.
	eventually(t, "the rename's reload on /debug/reload", func() error {
		if st := h.reloadStatus(); st.Reloads < 2 {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	reloads := h.reloadStatus().Reloads
	must(t, os.WriteFile(routes, []byte("/,/in-place"), 0o644))
	// Nothing to wait for: the point is that nothing happens. Fifty
	// debounces is ample for a reload that should not come.
	time.Sleep(50 * debounce)
	if st := h.reloadStatus(); st.Reloads != reloads {
		t.Errorf("a file written in place was read before it settled: reloads %d, before %d", st.Reloads, reloads)
	}
}
