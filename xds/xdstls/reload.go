package xdstls

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
)

// reloading holds a value parsed from files and parses them again when
// their size or modification time changes. It is checked on use (every
// handshake, every authorization) rather than watched: a stat per file is
// cheap, needs no goroutine, and sees a Kubernetes Secret volume's symlink
// swap like any other rewrite (os.Stat follows the link).
type reloading[T any] struct {
	what  string   // for logs, e.g. "xDS TLS certificate"
	paths []string // read in this order and passed to parse
	parse func(contents [][]byte) (T, error)
	attrs func(T) []any // what to log about a loaded value
	log   *slog.Logger

	mu     sync.Mutex
	stamps []stamp  // the files when last attempted
	sum    [32]byte // of the contents last loaded
	value  T
}

// stamp is what says a file changed: its size and modification time, or
// that it could not be stat'ed.
type stamp struct {
	size, modNanos int64
	missing        bool
}

// newReloading loads the files once; an error here is fatal to the caller.
func newReloading[T any](what string, paths []string, parse func([][]byte) (T, error), attrs func(T) []any, log *slog.Logger) (*reloading[T], error) {
	r := &reloading[T]{what: what, paths: paths, parse: parse, attrs: attrs, log: log}
	r.stamps = stampsOf(paths)
	contents, sum, err := readAll(paths)
	if err != nil {
		return nil, err
	}
	if r.value, err = parse(contents); err != nil {
		return nil, err
	}
	r.sum = sum
	log.Info(what+" loaded", append([]any{"files", paths}, attrs(r.value)...)...)
	return r, nil
}

// get returns the current value, reloading it first if a file changed. A
// change that does not load keeps the previous value and is logged once.
func (r *reloading[T]) get() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := stampsOf(r.paths)
	if slices.Equal(st, r.stamps) {
		return r.value
	}
	r.stamps = st
	contents, sum, err := readAll(r.paths)
	if err == nil && sum == r.sum {
		return r.value // touched, not changed
	}
	var v T
	if err == nil {
		v, err = r.parse(contents)
	}
	if err != nil {
		r.log.Error(r.what+" changed but does not load; keeping the previous one", "files", r.paths, "error", err)
		return r.value
	}
	r.value, r.sum = v, sum
	r.log.Info(r.what+" reloaded", append([]any{"files", r.paths}, r.attrs(v)...)...)
	return r.value
}

func stampsOf(paths []string) []stamp {
	out := make([]stamp, len(paths))
	for i, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			out[i] = stamp{missing: true}
			continue
		}
		out[i] = stamp{size: fi.Size(), modNanos: fi.ModTime().UnixNano()}
	}
	return out
}

// readAll reads the files and hashes their contents, each length-prefixed.
func readAll(paths []string) ([][]byte, [32]byte, error) {
	h := sha256.New()
	out := make([][]byte, len(paths))
	var errs []error
	for i, p := range paths {
		b, err := readRegular(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[i] = b
		_, _ = fmt.Fprintf(h, "%d:", len(b)) // hash.Hash.Write never fails
		_, _ = h.Write(b)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return out, sum, errors.Join(errs...)
}
