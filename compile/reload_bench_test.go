package compile_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/internal/benchcpu"
	"github.com/trustgate/trustgate/internal/scalecfg"
	"github.com/trustgate/trustgate/model"
)

// scaleDir writes the gencfg workload (internal/scalecfg) shaped by o.
func scaleDir(b *testing.B, o scalecfg.Options) (string, model.LoadOptions) {
	b.Helper()
	dir := b.TempDir()
	if err := scalecfg.Write(dir, o, false); err != nil {
		b.Fatal(err)
	}
	return dir, scalecfg.LoadOptions(dir)
}

// rewrite writes the workload's YAML at revision rev (host 0's route).
func rewrite(b *testing.B, dir string, n, rev int) {
	b.Helper()
	path := filepath.Join(dir, scalecfg.IstioFile)
	if err := scalecfg.WriteFile(path, func(w io.Writer) error { return scalecfg.Istio(w, scalecfg.Options{Hosts: n, Rev: rev}) }); err != nil {
		b.Fatal(err)
	}
}

// rewriteHosts writes the workload's YAML with n hosts.
func rewriteHosts(b *testing.B, dir string, n int) {
	b.Helper()
	path := filepath.Join(dir, scalecfg.IstioFile)
	if err := scalecfg.WriteFile(path, func(w io.Writer) error { return scalecfg.Istio(w, scalecfg.Options{Hosts: n}) }); err != nil {
		b.Fatal(err)
	}
}

// shiftLines rewrites the workload's file with lines comment lines on top.
func shiftLines(b *testing.B, dir string, lines int) {
	b.Helper()
	path := filepath.Join(dir, scalecfg.IstioFile)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	data = bytes.TrimPrefix(data, []byte("# shifted\n"))
	if lines > 0 {
		data = append([]byte("# shifted\n"), data...)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
}

// serverWork is what the server does with a group's resources per reload
// (xds/server buildSnapshot): marshal every resource deterministically and
// hash the bytes of each type into its version.
func serverWork(b *testing.B, cfg *compile.Config) {
	res, err := cfg.Compile(scalecfg.Selector)
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	for _, m := range res.All() {
		bs, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		h.Write(bs)
	}
}

// BenchmarkReloadOneHostEdit measures a reload after a one-host edit, as
// the server's file loader makes it: compile.Load with the cache it holds
// across reloads (warmed by a first load), then the server's marshal and
// hash of every resource. edit=route changes host 0's route (RDS only);
// edit=host adds a host, then removes it, in turn (its Gateway server, so
// the listener, and its VirtualService); edit=shift adds a comment line at
// the top of the file, then removes it, in turn (every document moves, no
// object changes). The file is rewritten outside the timer.
func BenchmarkReloadOneHostEdit(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, edit := range []string{"route", "host", "shift"} {
			b.Run(fmt.Sprintf("hosts=%d/edit=%s", n, edit), func(b *testing.B) {
				dir, opts := scaleDir(b, scalecfg.Options{Hosts: n})
				cache := warmCache(b, opts)
				b.ReportAllocs()
				b.ResetTimer()
				cpu := benchcpu.Start(b)
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					cpu.Pause(b)
					switch edit {
					case "route":
						rewrite(b, dir, n, i+1)
					case "host":
						rewriteHosts(b, dir, n+(i+1)%2)
					default:
						shiftLines(b, dir, (i+1)%2)
					}
					b.StartTimer()
					cpu.Resume(b)
					cfg, err := compile.Load(opts, compile.ForServe(), compile.WithCache(cache))
					if err != nil {
						b.Fatal(err)
					}
					serverWork(b, cfg)
				}
				cpu.Report(b)
			})
		}
	}
}

// BenchmarkReloadFull measures a reload without a cache (the first one, or
// one whose every object changed): compile.Load and the server's marshal
// and hash of every resource.
func BenchmarkReloadFull(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			_, opts := scaleDir(b, scalecfg.Options{Hosts: n})
			b.ReportAllocs()
			cpu := benchcpu.Start(b)
			for i := 0; i < b.N; i++ {
				cfg, err := compile.Load(opts, compile.ForServe())
				if err != nil {
					b.Fatal(err)
				}
				serverWork(b, cfg)
			}
			cpu.Report(b)
		})
	}
}

// warmCache is a cache filled by one load of opts.
func warmCache(b *testing.B, opts model.LoadOptions) *compile.Cache {
	b.Helper()
	cache := compile.NewCache()
	if _, err := compile.Load(opts, compile.ForServe(), compile.WithCache(cache)); err != nil {
		b.Fatal(err)
	}
	return cache
}
