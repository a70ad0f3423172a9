package model

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mkfifo makes a named pipe, skipping the test where there are none.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
}

// loadWithin loads opts, failing the test if Load does not return within a
// few seconds (a FIFO opened for reading blocks until a writer comes).
func loadWithin(t *testing.T, opts LoadOptions) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := Load(opts)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Load did not return: it blocked on a file that is not regular")
		return nil
	}
}

// TestLoadReadsOnlyRegularFiles: a FIFO, a device or a socket given as
// configuration, found in a configuration directory, or reached through a
// symlink, is an error naming it, never a read that blocks or never ends.
func TestLoadReadsOnlyRegularFiles(t *testing.T) {
	tests := map[string]struct {
		// setup returns the load options and the path the error must name.
		setup func(t *testing.T, dir string) (LoadOptions, string)
		want  string
	}{
		"a FIFO named as --config": {
			setup: func(t *testing.T, dir string) (LoadOptions, string) {
				p := filepath.Join(dir, "gateway.yaml")
				mkfifo(t, p)
				return LoadOptions{Paths: []string{p}}, p
			},
			want: "is a named pipe (FIFO), not a regular file",
		},
		"a FIFO in a configuration directory": {
			setup: func(t *testing.T, dir string) (LoadOptions, string) {
				writeFiles(t, dir, map[string]string{"a.yaml": secretYAML("a")})
				p := filepath.Join(dir, "b.yaml")
				mkfifo(t, p)
				return LoadOptions{Paths: []string{dir}}, p
			},
			want: "is a named pipe (FIFO), not a regular file",
		},
		"a link to a FIFO": {
			setup: func(t *testing.T, dir string) (LoadOptions, string) {
				fifo := filepath.Join(dir, "pipe")
				mkfifo(t, fifo)
				p := filepath.Join(dir, "gateway.yaml")
				symlink(t, fifo, p)
				return LoadOptions{Paths: []string{p}}, p
			},
			want: "is a named pipe (FIFO), not a regular file",
		},
		"a device": {
			setup: func(t *testing.T, dir string) (LoadOptions, string) {
				return LoadOptions{Paths: []string{"/dev/zero"}}, "/dev/zero"
			},
			want: "is a device, not a regular file",
		},
		"a link to a device in a configuration directory": {
			setup: func(t *testing.T, dir string) (LoadOptions, string) {
				p := filepath.Join(dir, "zero.yaml")
				symlink(t, "/dev/zero", p)
				return LoadOptions{Paths: []string{dir}}, p
			},
			want: "is a device, not a regular file",
		},
		"a FIFO as a secrets-directory key": {
			setup: func(t *testing.T, dir string) (LoadOptions, string) {
				if err := os.MkdirAll(filepath.Join(dir, "secrets", "gw"), 0o755); err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(dir, "secrets", "gw", "ca.crl")
				mkfifo(t, p)
				return LoadOptions{SecretsDirs: []string{filepath.Join(dir, "secrets")}}, p
			},
			want: "is a named pipe (FIFO), not a regular file",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat("/dev/zero"); err != nil && strings.Contains(name, "device") {
				t.Skip("no /dev/zero here")
			}
			opts, path := tc.setup(t, t.TempDir())
			err := loadWithin(t, opts)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q should name %s and say %q", err, path, tc.want)
			}
		})
	}
}
