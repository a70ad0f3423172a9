package server

import "context"

// Source is where the configuration comes from: files (package
// source/file), an API, or a test. The server loads from it at start, and
// again whenever Watch calls reload or Reload is called (SIGHUP); it never
// reads a file or a watch of its own.
type Source interface {
	// Load returns the configuration as it is now. It returns an error
	// wrapping ErrInputsChanged when the input changed while it was read:
	// the server then drops the load (changing nothing, counting no
	// failure), and the source must call reload once its input has
	// settled.
	Load() (Config, error)
	// Watch calls reload whenever the configuration may have changed (a
	// burst of changes once) until ctx ends, then returns nil. reload
	// returns when the reload is done; its outcome is the server's to log
	// and show. An error, returned at once when the source cannot watch,
	// ends Serve.
	Watch(ctx context.Context, reload func()) error
}

// Settling is implemented by a Source whose input can be caught mid-change
// (files written in place): while Settling reports true the server does not
// retry a held-back reload on its own, since the source reloads once its
// input has settled.
type Settling interface {
	Settling() bool
}

// loaderSource is Options.Loader as a Source: it loads with the function
// and never reloads by itself (Reload does).
type loaderSource Loader

func (l loaderSource) Load() (Config, error) { return l() }

func (loaderSource) Watch(ctx context.Context, _ func()) error {
	<-ctx.Done()
	return nil
}
