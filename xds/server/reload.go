package server

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrInputsChanged is returned by a Source's Load, and so by Reload, when
// the input changed while it was read (source/file: a file): the load may
// mix old and new content, or hold a half-written file, so it is dropped,
// changing nothing, and the source loads again once its input has settled.
// It is not counted as a failed reload.
var ErrInputsChanged = errors.New("configuration files changed while they were read")

// ReloadStatus is the outcome of the last reload, as /debug/reload shows it.
type ReloadStatus struct {
	OK          bool          `json:"ok"`
	At          time.Time     `json:"at"`
	Duration    string        `json:"duration"`
	Errors      []string      `json:"errors,omitempty"`
	Held        []HeldChange  `json:"held,omitempty"` // why the reload was held back, if it was
	LastSuccess *time.Time    `json:"last_success,omitempty"`
	Reloads     int           `json:"reloads"`
	Failures    int           `json:"failures"`
	Groups      []GroupStatus `json:"groups"`
}

// reloads keeps the last reload's outcome.
type reloads struct {
	mu   sync.Mutex
	last ReloadStatus
}

func (r *reloads) record(at time.Time, took time.Duration, err error, held []HeldChange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last.At, r.last.Duration, r.last.OK, r.last.Errors, r.last.Held = at, took.String(), err == nil, nil, held
	r.last.Reloads++
	if err != nil {
		r.last.Failures++
		for _, e := range flatten(err) {
			r.last.Errors = append(r.last.Errors, e.Error())
		}
		return
	}
	t := at
	r.last.LastSuccess = &t
}

func (r *reloads) status() ReloadStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.last
	st.Errors = append([]string(nil), r.last.Errors...)
	st.Held = append([]HeldChange(nil), r.last.Held...)
	return st
}

// Reload loads the configuration and recompiles every known proxy group. On
// any error every group keeps its last good snapshot; each error is logged
// and shown on /debug/reload, and counted in trustgate_reload_errors_total.
// A reload that would cause an outage is held back (see vet), and shown
// and counted as such too. A load the source drops (ErrInputsChanged) is
// returned as it is, changing and recording nothing. Reloads are
// serialised; it is safe to call at any time (`trustgate serve` calls it on
// SIGHUP).
func (s *Server) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	cfg, err := s.opts.Source.Load()
	if errors.Is(err, ErrInputsChanged) {
		return err
	}
	defer s.firstDone.Do(func() { s.loaded <- err })
	if err == nil {
		err = s.groups.apply(ctx, cfg)
	}
	took := time.Since(start)
	held := heldIn(err)
	s.held.record(held)
	s.reloads.record(start, took, err, held)
	if err != nil {
		s.metrics.reloadErrors.Inc()
		s.metrics.lastReloadSuccess.Set(0)
		for _, e := range flatten(err) {
			s.log.Error("reload failed; serving the last good configuration", "error", e)
		}
		return err
	}
	s.metrics.lastReloadSuccess.Set(1)
	s.ready.Store(true)
	s.log.Info("configuration loaded", "took", took.String())
	return nil
}

// firstLoad loads the configuration at start and returns the outcome
// (loadErr). When the source drops that load (ErrInputsChanged) it loads
// again once its input has settled, and firstLoad waits for the outcome of
// the first reload that is not dropped, whoever started it. err is an error
// from errs (the source cannot watch): no reload will come.
func (s *Server) firstLoad(ctx context.Context, errs <-chan error) (loadErr, err error) {
	if loadErr = s.Reload(ctx); !errors.Is(loadErr, ErrInputsChanged) {
		return loadErr, nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err(), nil
	case loadErr = <-s.loaded:
		return loadErr, nil
	case err = <-errs:
		return nil, err
	}
}
