package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/source/file"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

// k8sVolume writes a directory the way the kubelet writes a mounted
// ConfigMap or Secret: files live in a "..<timestamp>" directory, "..data"
// links to it, and each file is a link through "..data". An update writes a
// new directory and renames a new "..data" link over the old one.
type k8sVolume struct {
	t   *testing.T
	dir string
	gen int
}

func (v *k8sVolume) write(files map[string]string) {
	v.t.Helper()
	v.gen++
	ts := fmt.Sprintf("..2026_01_01_00_00_%02d.%d", v.gen, v.gen)
	must(v.t, os.Mkdir(filepath.Join(v.dir, ts), 0o755))
	for name, content := range files {
		must(v.t, os.WriteFile(filepath.Join(v.dir, ts, name), []byte(content), 0o644))
	}
	old, _ := os.Readlink(filepath.Join(v.dir, "..data")) // absent on the first write
	must(v.t, os.Symlink(ts, filepath.Join(v.dir, "..data_tmp")))
	must(v.t, os.Rename(filepath.Join(v.dir, "..data_tmp"), filepath.Join(v.dir, "..data")))
	for name := range files {
		link := filepath.Join(v.dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			must(v.t, os.Symlink(filepath.Join("..data", name), link))
		}
	}
	if old != "" {
		must(v.t, os.RemoveAll(filepath.Join(v.dir, old)))
	}
}

// fileSource is the file source the options describe, with the test's
// logger.
func fileSource(t *testing.T, opts file.Options) *file.Source {
	t.Helper()
	opts.Logger = testLogger(t)
	src, err := file.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fileLoader builds the fixture from files: routes.txt lists the route
// prefixes, and crl.txt in the secrets directory numbers the CRL (a new CRL
// is signed only when the number changes).
func (h *harness) fileLoader(routes, crl string) server.Loader {
	var last int64
	return func() (server.Config, error) {
		b, err := os.ReadFile(routes)
		if err != nil {
			return nil, err
		}
		n, err := os.ReadFile(crl)
		if err != nil {
			return nil, err
		}
		num, err := strconv.ParseInt(strings.TrimSpace(string(n)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", crl, err)
		}
		h.set(func(h *harness) {
			h.spec.Prefixes = strings.Split(strings.TrimSpace(string(b)), ",")
			if num != last {
				err = h.pki.SetCRL(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(num) * time.Second))
				last = num
			}
		})
		if err != nil {
			return nil, err
		}
		return h.load()
	}
}

func TestReloadOnFileChanges(t *testing.T) {
	tests := map[string]struct {
		// watch returns the config paths to watch given the volume dir.
		watch func(cfgDir string) []string
	}{
		"watching the mounted file": {watch: func(d string) []string { return []string{filepath.Join(d, "routes.txt")} }},
		"watching the directory":    {watch: func(d string) []string { return []string{d} }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			cfg := &k8sVolume{t: t, dir: filepath.Join(root, "config")}
			sec := &k8sVolume{t: t, dir: filepath.Join(root, "secrets")}
			must(t, os.Mkdir(cfg.dir, 0o755))
			must(t, os.Mkdir(sec.dir, 0o755))
			cfg.write(map[string]string{"routes.txt": "/"})
			sec.write(map[string]string{"crl.txt": "1"})

			h := newHarness(t, fixture.Spec{})
			opts := h.options()
			opts.Loader, opts.Source = nil, fileSource(t, file.Options{
				Load:     h.fileLoader(filepath.Join(cfg.dir, "routes.txt"), filepath.Join(sec.dir, "crl.txt")),
				Input:    model.LoadOptions{Paths: tc.watch(cfg.dir), SecretsDirs: []string{sec.dir}},
				Debounce: 20 * time.Millisecond,
				// A ..data swap is atomic: it must apply at once, never
				// wait for the settle time of files written in place.
				Settle: time.Hour,
			})
			h.start(opts)
			e := h.ready(t, envoytest.Options{})

			cfg.write(map[string]string{"routes.txt": "/,/swapped"})
			if _, err := e.Wait(timeout, "the route from the swapped ConfigMap", func(v envoytest.View) bool {
				return prefixes(v.Routes[fixture.RouteName]) == "/,/swapped"
			}); err != nil {
				t.Fatal(err)
			}

			crl := func(v envoytest.View) string {
				return string(v.Secrets[fixture.CASecret].GetValidationContext().GetCrl().GetInlineBytes())
			}
			old := crl(e.View())
			sec.write(map[string]string{"crl.txt": "2"})
			if _, err := e.Wait(timeout, "the CRL from the swapped Secret", func(v envoytest.View) bool {
				return crl(v) != old
			}); err != nil {
				t.Fatal(err)
			}
			// The status is recorded just after the push.
			eventually(t, "three good reloads on /debug/reload", func() error {
				if st := h.reloadStatus(); !st.OK || st.Reloads < 3 {
					return fmt.Errorf("status %+v", st)
				}
				return nil
			})
		})
	}
}
