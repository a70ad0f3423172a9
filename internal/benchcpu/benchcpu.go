package benchcpu

import (
	"testing"
	"time"

	"github.com/trustgate/trustgate/internal/cputime"
)

// Meter counts a benchmark's CPU time from Start until Report, leaving out
// what runs between Pause and Resume (use them with b.StopTimer and
// b.StartTimer).
type Meter struct{ start, total time.Duration }

// Start begins counting.
func Start(*testing.B) *Meter { return &Meter{start: cputime.Self()} }

// Pause stops counting; Resume starts again.
func (m *Meter) Pause(*testing.B)  { m.total += cputime.Self() - m.start }
func (m *Meter) Resume(*testing.B) { m.start = cputime.Self() }

// Report stops counting and reports the CPU time per op.
func (m *Meter) Report(b *testing.B) {
	m.Pause(b)
	b.ReportMetric(float64(m.total)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
