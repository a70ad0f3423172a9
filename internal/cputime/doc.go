// Package cputime reads this process's CPU time, user plus system, from
// getrusage: every goroutine and the collector included. The benchmarks
// report it per op (internal/benchcpu), and the load tool reports its
// clients' share of the machine with it (cmd/xdsload), at microsecond
// resolution where /proc/PID/stat counts 10 ms ticks. SelfUsage adds the
// minor page faults and peak resident memory of the same reading (the load
// tool's clients).
//
// It is a leaf: standard library only.
package cputime
