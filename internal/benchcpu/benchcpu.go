package benchcpu

import (
	"syscall"
	"testing"
	"time"
)

// Meter counts a benchmark's CPU time from Start until Report, leaving out
// what runs between Pause and Resume (use them with b.StopTimer and
// b.StartTimer).
type Meter struct{ start, total time.Duration }

// Start begins counting.
func Start(b *testing.B) *Meter { return &Meter{start: cpuTime(b)} }

// Pause stops counting; Resume starts again.
func (m *Meter) Pause(b *testing.B)  { m.total += cpuTime(b) - m.start }
func (m *Meter) Resume(b *testing.B) { m.start = cpuTime(b) }

// Report stops counting and reports the CPU time per op.
func (m *Meter) Report(b *testing.B) {
	m.Pause(b)
	b.ReportMetric(float64(m.total)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
