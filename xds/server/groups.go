package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/xds/translate"
)

// groups holds the last good configuration and the snapshot of every proxy
// group seen since start. A group is compiled when its first proxy sends its
// first request, and recompiled on every reload.
type groups struct {
	caches *caches
	log    *slog.Logger
	// installed runs after snapshots were installed (under mu).
	installed func()

	// mu serialises compiling and installing snapshots; it guards cfg and
	// byKey.
	mu    sync.Mutex
	cfg   Config
	byKey map[string]*group

	// smu guards snaps, the installed snapshot of each group, read by the
	// stream goroutines without waiting for a compile, and prevNames, the
	// resource names (by type URL) of each group's snapshot before it.
	smu       sync.RWMutex
	snaps     map[string]*snapshot
	prevNames map[string]map[string][]string
}

type group struct {
	labels map[string]string
	// err is why this group has no snapshot for the current configuration
	// (set when its first compile failed; cleared by a good reload).
	err error
}

func newGroups(c *caches, log *slog.Logger, installed func()) *groups {
	return &groups{caches: c, log: log, installed: installed, byKey: map[string]*group{},
		snaps: map[string]*snapshot{}, prevNames: map[string]map[string][]string{}}
}

// ensure makes sure the group of these labels is known and, when a
// configuration is loaded, has a snapshot. It runs in the stream callback
// before the cache sees the request, so the proxy's first watch finds the
// snapshot in place. It returns the group key.
func (g *groups) ensure(ctx context.Context, l map[string]string) string {
	key := labelset.Key(l)
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.byKey[key]; ok {
		return key
	}
	grp := &group{labels: maps.Clone(l)}
	g.byKey[key] = grp
	if g.cfg == nil {
		return key // compiled by the first successful reload
	}
	s, err := compileGroup(g.cfg, key, grp.labels)
	if err == nil {
		err = g.install(ctx, key, s)
	}
	if err != nil {
		grp.err = err
		for _, e := range flatten(err) {
			g.log.Error("proxy group has no configuration", "group", key, "error", e)
		}
		return key
	}
	g.log.Info("proxy group compiled", "group", key, "versions", shortVersions(s))
	g.installed()
	return key
}

// apply compiles every known group with cfg (and the groups cfg declares,
// see GroupLister) and, only if all succeed, installs the snapshots and
// makes cfg the configuration for new groups. On error nothing changes:
// every group keeps its last good snapshot.
func (g *groups) apply(ctx context.Context, cfg Config) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gl, ok := cfg.(GroupLister); ok {
		for _, l := range gl.Selectors() {
			if key := labelset.Key(l); g.byKey[key] == nil {
				g.byKey[key] = &group{labels: maps.Clone(l)}
			}
		}
	}
	next := make(map[string]*snapshot, len(g.byKey))
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(g.byKey)) {
		s, err := compileGroup(cfg, key, g.byKey[key].labels)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		next[key] = s
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, key := range slices.Sorted(maps.Keys(next)) {
		if next[key].sameVersions(g.current(key)) {
			continue // no change, no push
		}
		if err := g.install(ctx, key, next[key]); err != nil {
			return err
		}
		g.log.Info("proxy group updated", "group", key, "versions", shortVersions(next[key]))
	}
	for _, grp := range g.byKey {
		grp.err = nil
	}
	g.cfg = cfg
	g.installed()
	return nil
}

// compileGroup compiles and checks one group's resources.
func compileGroup(cfg Config, key string, l map[string]string) (*snapshot, error) {
	r, err := cfg.Compile(maps.Clone(l))
	if err != nil {
		return nil, inGroup(key, err)
	}
	s, err := buildSnapshot(r)
	if err != nil {
		return nil, inGroup(key, err)
	}
	return s, nil
}

// inGroup prefixes each of the (possibly joined) errors with the group.
func inGroup(key string, err error) error {
	var out []error
	for _, e := range flatten(err) {
		out = append(out, fmt.Errorf("group %q: %w", key, e))
	}
	return errors.Join(out...)
}

func (g *groups) install(ctx context.Context, key string, s *snapshot) error {
	if err := g.caches.set(ctx, key, s); err != nil {
		return err
	}
	g.smu.Lock()
	if old := g.snaps[key]; old != nil {
		g.prevNames[key] = old.names
	}
	g.snaps[key] = s
	g.smu.Unlock()
	return nil
}

// current returns the installed snapshot of a group, or nil.
func (g *groups) current(key string) *snapshot {
	g.smu.RLock()
	defer g.smu.RUnlock()
	return g.snaps[key]
}

// served reports whether a group's current snapshot, or the one before it,
// holds a resource; ok is false when the group has no snapshot.
func (g *groups) served(key, typeURL string) (has func(name string) bool, ok bool) {
	g.smu.RLock()
	defer g.smu.RUnlock()
	s := g.snaps[key]
	if s == nil {
		return nil, false
	}
	cur, prev := s.names[typeURL], g.prevNames[key][typeURL]
	return func(name string) bool {
		_, inCur := slices.BinarySearch(cur, name)
		_, inPrev := slices.BinarySearch(prev, name)
		return inCur || inPrev
	}, true
}

// config returns the last good configuration, or nil before the first.
func (g *groups) config() Config {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cfg
}

// resources returns the resources of every group with a snapshot, by group key.
func (g *groups) resources() map[string]*translate.Resources {
	g.smu.RLock()
	defer g.smu.RUnlock()
	out := make(map[string]*translate.Resources, len(g.snaps))
	for k, s := range g.snaps {
		out[k] = s.resources
	}
	return out
}

// GroupStatus is one proxy group as /debug/reload shows it.
type GroupStatus struct {
	Group    string            `json:"group"`
	Labels   map[string]string `json:"labels"`
	Versions map[string]string `json:"versions,omitempty"` // short type name -> version
	Error    string            `json:"error,omitempty"`
}

func (g *groups) status() []GroupStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]GroupStatus, 0, len(g.byKey))
	for _, key := range slices.Sorted(maps.Keys(g.byKey)) {
		st := GroupStatus{Group: key, Labels: g.byKey[key].labels}
		if s := g.current(key); s != nil {
			st.Versions = map[string]string{}
			for t, v := range s.versions {
				st.Versions[shortType(t)] = v
			}
		}
		if err := g.byKey[key].err; err != nil {
			st.Error = err.Error()
		}
		out = append(out, st)
	}
	return out
}

// shortVersions abbreviates a snapshot's versions for logs.
func shortVersions(s *snapshot) map[string]string {
	out := make(map[string]string, len(s.versions))
	for t, v := range s.versions {
		out[shortType(t)] = v[:min(12, len(v))]
	}
	return out
}

// flatten splits joined errors so that each is logged and shown on its own
// (each carries its own file:line).
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}
