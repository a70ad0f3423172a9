package server

import (
	"net"
	"net/http"
	"net/http/pprof"
)

// handleProfiles serves Go's profiles (net/http/pprof) under
// /debug/pprof/, as Contour and Envoy Gateway serve them on their admin
// ports. They are registered on mux (importing net/http/pprof also puts
// them on http.DefaultServeMux, which trustgate never serves), and only
// for a loopback admin listener (see loopbackListener): a heap
// profile or goroutine dump shows request data, and a CPU profile or
// trace costs CPU for as long as the caller asks, up to the admin
// server's WriteTimeout.
func handleProfiles(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // the index, and every named profile: heap, goroutine, allocs, block, mutex, threadcreate
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol) // go tool pprof looks symbols up with POST
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// loopbackListener reports whether lis is bound to a loopback address
// (127.0.0.0/8, ::1): only local processes can connect. An address of
// every interface (0.0.0.0, ::) is not loopback.
func loopbackListener(lis net.Listener) bool {
	addr, ok := lis.Addr().(*net.TCPAddr)
	return ok && addr.IP.IsLoopback()
}
