// Package startgc keeps the garbage collector out of the binary's package
// initialisation. Go starts collecting at a 4 MB heap; the packages linked
// into trustgate (Envoy's and Kubernetes' API types, client-go's schemes,
// prometheus) allocate 3.8 MB in their init functions, so every command,
// `--version` too, ran a collection before main: 4.6 ms of mark assists on
// the initialising goroutine and 300 page faults (docs/performance.md,
// "Envoy Gateway at 200 hosts, again").
//
// Its init raises GOGC before those packages initialise, and Done, called
// before the command runs (cmd/trustgate's restoreGC; translate instead
// keeps the raised GOGC until it sets its own), gives Go's default back. Go initialises packages
// in import-path order, each once its imports are (the Go specification,
// "Package initialization"); this package imports only a few standard
// packages, so it runs before google.golang.org/protobuf and everything
// built on it. GOGC set in the environment is left alone throughout.
//
// It is a leaf: standard library only.
package startgc
