package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

// droppingSource drops its first load (its input changed while read) and
// reloads once release is closed, as a source must after a dropped load.
type droppingSource struct {
	h       *harness
	loads   atomic.Int32
	release chan struct{}
	watched chan struct{} // closed when Watch runs
}

func (s *droppingSource) Load() (server.Config, error) {
	if s.loads.Add(1) == 1 {
		return nil, fmt.Errorf("routes.yaml: %w", server.ErrInputsChanged)
	}
	return s.h.load()
}

func (s *droppingSource) Watch(ctx context.Context, reload func()) error {
	close(s.watched)
	select {
	case <-ctx.Done():
		return nil
	case <-s.release:
	}
	reload()
	<-ctx.Done()
	return nil
}

// TestFirstLoadDroppedWaitsForTheSource: a first load the source drops is
// neither a failure (even with RequireInitialConfig) nor retried by the
// server on a timer of its own: Serve waits, not ready, for the reload the
// source starts once its input has settled, and serves that.
func TestFirstLoadDroppedWaitsForTheSource(t *testing.T) {
	h := newHarness(t, fixture.Spec{})
	src := &droppingSource{h: h, release: make(chan struct{}), watched: make(chan struct{})}
	opts := h.options()
	opts.Loader, opts.Source, opts.RequireInitialConfig = nil, src, true
	h.start(opts)
	<-src.watched
	eventually(t, "the first load", func() error {
		if n := src.loads.Load(); n != 1 {
			return fmt.Errorf("%d loads", n)
		}
		return nil
	})
	// Longer than the server's former retry timer (the default settle
	// time, 1s): nothing may load before the source says so.
	time.Sleep(1200 * time.Millisecond)
	if n := src.loads.Load(); n != 1 {
		t.Fatalf("%d loads before the source asked again, want 1", n)
	}
	if code, body := h.admin("/readyz"); code == http.StatusOK {
		t.Fatalf("ready before any load stood: %s", body)
	}
	close(src.release)
	h.ready(t, envoytest.Options{})
	if st := h.reloadStatus(); !st.OK || st.Reloads != 1 || st.Failures != 0 {
		t.Errorf("status %+v, want one good reload and no failure", st)
	}
}

// failingWatch cannot watch.
type failingWatch struct{ h *harness }

func (s failingWatch) Load() (server.Config, error) { return s.h.load() }

func (failingWatch) Watch(context.Context, func()) error {
	return errors.New("too many open files")
}

// TestSourceThatCannotWatchEndsServe: a source that cannot watch ends Serve
// with its error, as a configuration that would never reload must not be
// served as if it did.
func TestSourceThatCannotWatchEndsServe(t *testing.T) {
	h := newHarness(t, fixture.Spec{})
	opts := h.options()
	opts.Loader, opts.Source = nil, failingWatch{h: h}
	srv, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), lis, nil) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "watching the configuration: too many open files") {
			t.Errorf("Serve = %v, want the watch error", err)
		}
	case <-time.After(timeout):
		t.Fatal("Serve did not return")
	}
}

func TestSourceOrLoader(t *testing.T) {
	h := newHarness(t, fixture.Spec{})
	tests := map[string]struct {
		opts server.Options
		want string
	}{
		"neither": {opts: server.Options{}, want: "Options.Source or Options.Loader is required"},
		"both":    {opts: server.Options{Loader: h.load, Source: failingWatch{h: h}}, want: "exclude each other"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := server.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
