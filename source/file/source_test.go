package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/translate"
)

// staticConfig is a configuration that compiles to nothing.
type staticConfig struct{}

func (staticConfig) Compile(map[string]string) (*translate.Resources, error) {
	return &translate.Resources{}, nil
}

// TestLoadIsATransaction: a file that changes while Load reads it makes
// the load ErrInputsChanged, however the load itself went; files that stay
// the same let the load's own result through.
func TestLoadIsATransaction(t *testing.T) {
	loadErr := errors.New("bad YAML")
	tests := map[string]struct {
		write   bool  // the load rewrites the file while it reads it
		err     error // what the load returns
		wantErr error
	}{
		"unchanged":                 {wantErr: nil},
		"unchanged, failed":         {err: loadErr, wantErr: loadErr},
		"changed while read":        {write: true, wantErr: server.ErrInputsChanged},
		"changed while read, error": {write: true, err: loadErr, wantErr: server.ErrInputsChanged},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "gw.yaml")
			if err := os.WriteFile(path, []byte("a"), 0o600); err != nil {
				t.Fatal(err)
			}
			src, err := New(Options{Input: model.LoadOptions{Paths: []string{dir}}, Load: func() (server.Config, error) {
				if tc.write {
					if err := os.WriteFile(path, []byte("ab"), 0o600); err != nil {
						t.Error(err)
					}
				}
				if tc.err != nil {
					return nil, tc.err
				}
				return staticConfig{}, nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := src.Load(); !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("Load = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestDroppedLoadIsReadAgain: a load dropped before Watch runs (the
// server's first load) is read again once the files have settled, though
// the watcher never saw the write that dropped it.
func TestDroppedLoadIsReadAgain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(path, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	var loads atomic.Int32
	const settle = 200 * time.Millisecond
	src, err := New(Options{Input: model.LoadOptions{Paths: []string{dir}}, Debounce: 10 * time.Millisecond, Settle: settle,
		Load: func() (server.Config, error) {
			if loads.Add(1) == 1 {
				if err := os.WriteFile(path, []byte("ab"), 0o600); err != nil {
					t.Error(err)
				}
			}
			return staticConfig{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Load(); !errors.Is(err, server.ErrInputsChanged) {
		t.Fatalf("first Load = %v, want ErrInputsChanged", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	reloaded := make(chan time.Time, 1)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- src.Watch(ctx, func() {
			if _, err := src.Load(); err != nil {
				t.Errorf("Load after settling = %v", err)
			}
			select {
			case reloaded <- time.Now():
			default:
			}
		})
	}()
	select {
	case at := <-reloaded:
		if waited := at.Sub(start); waited < settle {
			t.Errorf("read again after %v, before the settle time %v", waited, settle)
		}
	case <-time.After(timeoutForTests):
		t.Fatal("the dropped load was not read again")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch = %v", err)
	}
}
