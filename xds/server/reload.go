package server

import (
	"context"
	"sync"
	"time"
)

// ReloadStatus is the outcome of the last reload, as /debug/reload shows it.
type ReloadStatus struct {
	OK          bool          `json:"ok"`
	At          time.Time     `json:"at"`
	Duration    string        `json:"duration"`
	Errors      []string      `json:"errors,omitempty"`
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

func (r *reloads) record(at time.Time, took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last.At, r.last.Duration, r.last.OK, r.last.Errors = at, took.String(), err == nil, nil
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
	return st
}

// Reload loads the configuration and recompiles every known proxy group. On
// any error every group keeps its last good snapshot; each error is logged
// and shown on /debug/reload, and counted in trustgate_reload_errors_total.
// Reloads are serialised; it is safe to call at any time (e.g. on SIGHUP).
func (s *Server) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	cfg, err := s.opts.Loader()
	if err == nil {
		err = s.groups.apply(ctx, cfg)
	}
	took := time.Since(start)
	s.reloads.record(start, took, err)
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
