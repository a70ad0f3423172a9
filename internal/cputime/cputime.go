package cputime

import (
	"syscall"
	"time"
)

// Usage is what getrusage reports of this process: its CPU time, its minor
// page faults (first touches of memory) and its peak resident memory.
type Usage struct {
	CPU         time.Duration // user + system
	MinorFaults int64
	PeakRSS     int64 // bytes on Linux, whose ru_maxrss is in KiB
}

// SelfUsage reads this process's usage.
func SelfUsage() Usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err) // RUSAGE_SELF with a valid pointer cannot fail
	}
	return Usage{CPU: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), MinorFaults: int64(ru.Minflt), PeakRSS: int64(ru.Maxrss) << 10}
}

// Self is this process's CPU time, user plus system.
func Self() time.Duration { return SelfUsage().CPU }
