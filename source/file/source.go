package file

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/server"
)

// Defaults of Options.
//
// The debounce guards no file against being read half-written: an atomic
// replacement is whole when it is seen, a file written in place (or created
// empty) waits for the settle time, and a load during which a file changed
// is dropped (watch.go, inputs.go). It only gathers a burst of replacements
// into one load, such as a certificate renamed into place and then its key
// (trustgate does not check that they match: loaded in between, Envoy would
// reject the pair and keep the old one until the next load). Two `mv`
// processes, one after the other, take 4–7 ms on the two-core machine of
// docs/performance.md at a load of 2; 50 ms leaves room for a loaded
// machine, and the reload-safety tests pass at 20 ms (docs/reload-safety.md).
// It was 100 ms until 2026-12-01: a third of issue 16's 0.3 s from an
// atomic replacement to 1,000 proxies' ACKs. A writer pausing longer between
// replacements is seen as two changes at any debounce, each of whole files.
const (
	DefaultDebounce = 50 * time.Millisecond
	DefaultSettle   = time.Second
)

// Options configure a Source.
type Options struct {
	// Input names the configuration files and directories (Paths,
	// directories watched recursively) and the secrets directories
	// (SecretsDirs); a change under any of them reloads. It also says how
	// the model reads them.
	Input model.LoadOptions
	// Load reads the files into a configuration; nil: Loader(Input,
	// Logger), as `trustgate serve` does. Load is what the source makes a
	// transaction of: it must read nothing but the files of Input.
	Load server.Loader
	// Debounce is how long the files must stay quiet before a reload.
	Debounce time.Duration
	// Settle is how long a file written in place must stay unchanged
	// before it is read (atomic replacements are read after Debounce).
	Settle time.Duration
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Load == nil {
		o.Load = Loader(o.Input, o.Logger)
	}
	return o
}

// Loader reads in as `trustgate serve` does, on every call: compile.Load
// judging certificates as the server must (compile.ForServe), with the
// configuration's warnings logged; errors are the server's to log. It holds
// a compile.Cache across its calls, so a reload decodes, builds and checks
// again only the documents and resources that changed (the result is the
// same as without it).
func Loader(in model.LoadOptions, log *slog.Logger) server.Loader {
	cache := compile.NewCache()
	return func() (server.Config, error) {
		cfg, err := compile.Load(in, compile.ForServe(), compile.WithCache(cache))
		if err != nil {
			return nil, err
		}
		for _, w := range cfg.Warnings() {
			log.Warn("configuration warning", "warning", w)
		}
		return cfg, nil
	}
}

// Source reads the configuration from files and reloads it when they have
// changed and settled. It implements server.Source and server.Settling.
type Source struct {
	opts   Options
	inputs watchSet // the files a load reads, for the watcher and the stamps
	// dropped tells the watch loop that a load was dropped because its
	// files changed while they were read; the loop reads them again once
	// they have settled.
	dropped chan struct{}
	// settling is set while the watcher has changes that have not settled.
	settling atomic.Bool
}

// New checks the options and resolves the paths; nothing is watched until
// Watch.
func New(opts Options) (*Source, error) {
	opts = opts.withDefaults()
	inputs, err := newWatchSet(opts.Input.Paths, opts.Input.SecretsDirs)
	if err != nil {
		return nil, err
	}
	return &Source{opts: opts, inputs: inputs, dropped: make(chan struct{}, 1)}, nil
}

// Load reads the configuration as a transaction over the files: it records
// every input file's size, time, type and identity before and after
// Options.Load, and when any changed the load may mix old and new content
// or hold a half-written file, so it returns server.ErrInputsChanged (the
// server then changes nothing) and Watch reads the files again once they
// have settled.
func (s *Source) Load() (server.Config, error) {
	before := s.inputs.stamps()
	cfg, err := s.opts.Load()
	if after := s.inputs.stamps(); !sameStamps(before, after) {
		s.opts.Logger.Info("configuration files changed while they were read; reading them again once they have settled",
			"files", changedFiles(before, after))
		select {
		case s.dropped <- struct{}{}:
		default: // one is pending already
		}
		return nil, server.ErrInputsChanged
	}
	return cfg, err
}

// Watch calls reload when the files have changed and settled, and again
// after a load was dropped (Load), until ctx ends; it returns an error only
// when the files cannot be watched. Without paths it only waits for ctx.
func (s *Source) Watch(ctx context.Context, reload func()) error {
	if s.inputs.empty() {
		<-ctx.Done()
		return nil
	}
	w, err := newWatcher(s.inputs, s.opts.Debounce, s.opts.Settle, s.opts.Logger)
	if err != nil {
		return err
	}
	w.pending = &s.settling
	w.run(ctx, s.dropped, reload)
	return nil
}

// Settling reports whether changed files wait to settle: the server does
// not retry a held-back reload meanwhile, since the watcher reloads once
// they have.
func (s *Source) Settling() bool { return s.settling.Load() }
