package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// Profiling of any command, for docs/performance.md: with
// TRUSTGATE_CPUPROFILE set, the command's CPU profile is written to that
// file; with TRUSTGATE_MEMPROFILE, a heap profile (allocations since start,
// and what is live) once the command returns; with TRUSTGATE_PPROF_ADDR, a
// loopback address, net/http/pprof is served there while the command runs,
// with /debug/heap (the heap after a collection, as JSON) for cmd/xdsload.
// Environment variables rather than flags, so every command's flags stay
// what its --help says.
const (
	cpuProfileEnv = "TRUSTGATE_CPUPROFILE"
	memProfileEnv = "TRUSTGATE_MEMPROFILE"
	pprofAddrEnv  = "TRUSTGATE_PPROF_ADDR"
)

// profiled runs fn under the profiles the environment asks for.
func profiled(stderr io.Writer, fn func() int) int {
	cpu, mem := os.Getenv(cpuProfileEnv), os.Getenv(memProfileEnv)
	if addr := os.Getenv(pprofAddrEnv); addr != "" {
		stop, err := servePprof(addr, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "trustgate:", pprofAddrEnv+":", err)
			return 1
		}
		defer stop()
	}
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

// servePprof serves the profiles on addr, which must be on loopback: they
// show the configuration's contents.
func servePprof(addr string, stderr io.Writer) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%q is not a loopback address", addr)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/heap", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		runtime.GC() // what sync.Pools held survives the first
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]uint64{"heap_inuse": ms.HeapInuse, "heap_alloc": ms.HeapAlloc, "sys": ms.Sys}) // the client went away
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "trustgate: pprof:", err)
		}
	}()
	return func() {
		if err := srv.Close(); err != nil {
			fmt.Fprintln(stderr, "trustgate: pprof:", err)
		}
	}, nil
}
