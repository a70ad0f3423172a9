// Package cputime reads this process's CPU time, user plus system, from
// getrusage: every goroutine and the collector included. The benchmarks
// report it per op (internal/benchcpu), and the load tool reports its
// clients' share of the machine with it (cmd/xdsload), at microsecond
// resolution where /proc/PID/stat counts 10 ms ticks.
//
// It is a leaf: standard library only.
package cputime
