package dump_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/internal/scalecfg"
	"github.com/trustgate/trustgate/xds/dump"
)

// BenchmarkWriteConfigDumpJSON measures `translate`'s rendering alone: the
// config dump of gencfg's workload (N mTLS hosts, one listener of N chains,
// N route configurations), keys redacted.
func BenchmarkWriteConfigDumpJSON(b *testing.B) {
	for _, n := range []int{200, 1000, 10000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if err := scalecfg.Write(dir, scalecfg.Options{Hosts: n}, false); err != nil {
				b.Fatal(err)
			}
			cfg, err := compile.Load(scalecfg.LoadOptions(dir))
			if err != nil {
				b.Fatal(err)
			}
			res, err := cfg.Compile(scalecfg.Selector)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := dump.WriteConfigDumpJSON(io.Discard, res, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
