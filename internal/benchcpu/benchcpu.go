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
func Start(*testing.B) *Meter { return &Meter{start: Used()} }

// Pause stops counting; Resume starts again.
func (m *Meter) Pause(*testing.B)  { m.total += Used() - m.start }
func (m *Meter) Resume(*testing.B) { m.start = Used() }

// Report stops counting and reports the CPU time per op.
func (m *Meter) Report(b *testing.B) {
	m.Pause(b)
	b.ReportMetric(float64(m.total)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// Used is the user and system CPU time of this process so far.
func Used() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err) // RUSAGE_SELF with a valid pointer cannot fail
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
