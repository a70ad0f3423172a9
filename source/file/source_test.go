package file

import (
	"context"
	"errors"
	"fmt"
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

// TestDefaultDebounceGathersRenames: with the default debounce, a
// certificate and its key renamed into place one after the other, 5 ms
// apart (two `mv` processes take 4–7 ms here), are one load that reads
// both new files, never the new certificate with the old key.
func TestDefaultDebounceGathersRenames(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	replace := func(path, content string) {
		t.Helper()
		tmp := filepath.Join(dir, "."+filepath.Base(path)+".tmp") // hidden: not watched
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	replace(cert, "cert 0")
	replace(key, "key 0")
	loads := make(chan [2]string, 16)
	src, err := New(Options{Input: model.LoadOptions{Paths: []string{dir}}, Load: func() (server.Config, error) {
		c, err1 := os.ReadFile(cert)
		k, err2 := os.ReadFile(key)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		loads <- [2]string{string(c), string(k)}
		return staticConfig{}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Watch(ctx, func() {
			if _, err := src.Load(); err != nil {
				t.Errorf("Load = %v", err)
			}
		})
	}()
	time.Sleep(100 * time.Millisecond) // the watch is set up
	for round := 1; round <= 5; round++ {
		replace(cert, fmt.Sprint("cert ", round))
		time.Sleep(5 * time.Millisecond)
		replace(key, fmt.Sprint("key ", round))
		want := [2]string{fmt.Sprint("cert ", round), fmt.Sprint("key ", round)}
		select {
		case got := <-loads:
			if got != want {
				t.Errorf("round %d: a load read %q, want %q", round, got, want)
			}
		case <-time.After(timeoutForTests):
			t.Fatalf("round %d: no load", round)
		}
		select {
		case got := <-loads:
			t.Errorf("round %d: a second load, of %q", round, got)
		case <-time.After(4 * DefaultDebounce):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch = %v", err)
	}
}
