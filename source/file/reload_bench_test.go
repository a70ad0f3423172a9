package file_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/internal/benchcpu"
	"github.com/trustgate/trustgate/internal/scalecfg"
	"github.com/trustgate/trustgate/source/file"
	"github.com/trustgate/trustgate/xds/server"
)

// BenchmarkServerReload measures the server's Reload end to end (load with
// the loader's cache, compile, build and check the snapshot, install), with
// no proxy connected, at N hosts of the gencfg workload: "edit" after one
// host's route changed (the file rewritten outside the timer), "same" with
// nothing changed; under "policies", the workload with each host's
// policies and backends (scalecfg.Options.Policies).
func BenchmarkServerReload(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, change := range []string{"edit", "same", "policies/edit", "policies/same"} {
			o := scalecfg.Options{Hosts: n, Policies: strings.HasPrefix(change, "policies/")}
			b.Run(fmt.Sprintf("hosts=%d/%s", n, change), func(b *testing.B) {
				dir := b.TempDir()
				if err := scalecfg.Write(dir, o, false); err != nil {
					b.Fatal(err)
				}
				log := slog.New(slog.NewTextHandler(io.Discard, nil))
				opts := scalecfg.LoadOptions(dir)
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
				cpu := benchcpu.Start(b)
				for i := 0; i < b.N; i++ {
					if strings.HasSuffix(change, "edit") {
						b.StopTimer()
						cpu.Pause(b)
						o.Rev = i + 1
						writeRev(b, dir, o)
						b.StartTimer()
						cpu.Resume(b)
					}
					if err := srv.Reload(ctx); err != nil {
						b.Fatal(err)
					}
				}
				cpu.Report(b)
			})
		}
	}
}

// writeRev writes the workload's YAML at revision o.Rev (host 0's route).
func writeRev(b *testing.B, dir string, o scalecfg.Options) {
	b.Helper()
	path := filepath.Join(dir, scalecfg.IstioFile)
	if err := scalecfg.WriteFile(path, func(w io.Writer) error { return scalecfg.Istio(w, o) }); err != nil {
		b.Fatal(err)
	}
}
