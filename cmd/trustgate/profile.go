package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// Profiling of any command, for docs/performance.md: with
// TRUSTGATE_CPUPROFILE set, the command's CPU profile is written to that
// file; with TRUSTGATE_MEMPROFILE, a heap profile (allocations since start,
// and what is live) once the command returns. Environment variables rather
// than flags, so every command's flags stay what its --help says.
const (
	cpuProfileEnv = "TRUSTGATE_CPUPROFILE"
	memProfileEnv = "TRUSTGATE_MEMPROFILE"
)

// profiled runs fn under the profiles the environment asks for.
func profiled(stderr io.Writer, fn func() int) int {
	cpu, mem := os.Getenv(cpuProfileEnv), os.Getenv(memProfileEnv)
	if cpu == "" && mem == "" {
		return fn()
	}
	if mem != "" {
		runtime.MemProfileRate = 64 << 10
	}
	var stop func() error
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			fmt.Fprintln(stderr, "trustgate:", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "trustgate:", errors.Join(err, f.Close()))
			return 1
		}
		stop = func() error { pprof.StopCPUProfile(); return f.Close() }
	}
	code := fn()
	if stop != nil {
		if err := stop(); err != nil {
			fmt.Fprintln(stderr, "trustgate: cpu profile:", err)
			code = max(code, 1)
		}
	}
	if mem != "" {
		if err := writeHeapProfile(mem); err != nil {
			fmt.Fprintln(stderr, "trustgate: heap profile:", err)
			code = max(code, 1)
		}
	}
	return code
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
}
