package file_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/trustgate/trustgate/internal/scalecfg"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/source/file"
	"github.com/trustgate/trustgate/xds/server"
)

// BenchmarkServerReload measures the server's Reload end to end (load with
// the loader's cache, compile, build and check the snapshot, install), with
// no proxy connected, at N hosts of the gencfg workload: "edit" after one
// host's route changed (the file rewritten outside the timer), "same" with
// nothing changed.
func BenchmarkServerReload(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, change := range []string{"edit", "same"} {
			b.Run(fmt.Sprintf("hosts=%d/%s", n, change), func(b *testing.B) {
				dir := b.TempDir()
				if err := scalecfg.Write(dir, scalecfg.Options{Hosts: n}, false); err != nil {
					b.Fatal(err)
				}
				log := slog.New(slog.NewTextHandler(io.Discard, nil))
				opts := model.LoadOptions{Paths: []string{filepath.Join(dir, scalecfg.IstioFile)}, SecretsDirs: []string{filepath.Join(dir, scalecfg.SecretsDir)}}
				srv, err := server.New(server.Options{Loader: file.Loader(opts, log), Logger: log})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if err := srv.Reload(ctx); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu := startCPU(b)
				for i := 0; i < b.N; i++ {
					if change == "edit" {
						b.StopTimer()
						cpu.pause(b)
						writeRev(b, dir, n, i+1)
						b.StartTimer()
						cpu.resume(b)
					}
					if err := srv.Reload(ctx); err != nil {
						b.Fatal(err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

// writeRev writes the workload's YAML at revision rev (host 0's route).
func writeRev(b *testing.B, dir string, n, rev int) {
	b.Helper()
	f, err := os.Create(filepath.Join(dir, scalecfg.IstioFile))
	if err != nil {
		b.Fatal(err)
	}
	if err := scalecfg.Istio(f, scalecfg.Options{Hosts: n, Rev: rev}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// cpuMeter reports a benchmark's CPU time per op (user + system, every
// goroutine and the collector included), "cpu-ms/op": on a machine shared
// with other work, a steadier figure than the wall time.
type cpuMeter struct{ start, total time.Duration }

func startCPU(b *testing.B) *cpuMeter { return &cpuMeter{start: cpuTime(b)} }

// pause stops counting (with b.StopTimer); resume starts again.
func (m *cpuMeter) pause(b *testing.B)  { m.total += cpuTime(b) - m.start }
func (m *cpuMeter) resume(b *testing.B) { m.start = cpuTime(b) }

func (m *cpuMeter) report(b *testing.B) {
	m.pause(b)
	b.ReportMetric(float64(m.total)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
