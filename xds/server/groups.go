package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/grpc/codes"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/xds/translate"
)

// groups holds the last good configuration and the snapshot of every proxy
// group: the groups the configuration declares (its Gateway selectors),
// compiled at every reload, and the groups of the label sets proxies bring,
// compiled when the group's first proxy sends its first request. A group
// with no connected proxy is freed after a grace period, or by the next
// reload, unless the configuration declares it; the number of groups is
// capped. So memory and reload time follow the proxies connected, not every
// label set ever seen.
type groups struct {
	caches  *caches
	log     *slog.Logger
	metrics *metrics
	max     int
	grace   time.Duration
	now     func() time.Time
	// installed runs after snapshots were installed or freed (under mu).
	installed func()
	// vet, when set, may hold back a reload whose every group compiled,
	// given the next snapshot of each (under mu; see hold.go).
	vet func(next map[string]*snapshot) error

	// mu serialises compiling, installing and freeing snapshots; it guards
	// cfg and byKey.
	mu    sync.Mutex
	cfg   Config
	byKey map[string]*group
	// enc keeps each resource's references and marshal across reloads
	// (encodings.go); committed or aborted with each apply.
	enc *encodings

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
	// declared: a Gateway selector of the current configuration; never freed.
	declared bool
	// streams counts the identified streams of the group's proxies;
	// idleSince is when it last dropped to zero (or the group was made).
	streams   int
	idleSince time.Time
}

func newGroups(c *caches, log *slog.Logger, m *metrics, opts Options, installed func()) *groups {
	return &groups{caches: c, log: log, metrics: m, max: opts.MaxGroups, grace: opts.GroupGrace, now: time.Now,
		installed: installed, byKey: map[string]*group{}, enc: newEncodings(),
		snaps: map[string]*snapshot{}, prevNames: map[string]map[string][]string{}}
}

// ensure admits one more stream to the group of these labels: it makes sure
// the group is known and, when a configuration is loaded, has a snapshot.
// It runs in the stream callback before the cache sees the request, so the
// proxy's first watch finds the snapshot in place. It returns the group key,
// or a refusal when the labels are too large or the group would be one over
// the cap. Every admitted stream must be released.
func (g *groups) ensure(ctx context.Context, l map[string]string) (string, error) {
	key := labelset.Key(l)
	if len(key) > maxLabelsBytes {
		return "", &refusal{reason: reasonLabelsTooLarge, code: codes.InvalidArgument,
			err: fmt.Errorf("the node's labels take %d bytes, over the limit of %d", len(key), maxLabelsBytes)}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if grp, ok := g.byKey[key]; ok {
		grp.streams++
		return key, nil
	}
	if len(g.byKey) >= g.max {
		return "", &refusal{reason: reasonTooManyGroups, code: codes.ResourceExhausted,
			err: fmt.Errorf("the server has %d proxy groups, its limit (--max-groups): a proxy with new labels is refused until a group with no proxy is freed", g.max)}
	}
	grp := &group{labels: maps.Clone(l), streams: 1}
	g.byKey[key] = grp
	g.metrics.groups.Set(float64(len(g.byKey)))
	if g.cfg == nil {
		return key, nil // compiled by the first successful reload
	}
	s, err := compileGroup(g.cfg, key, grp.labels, g.enc)
	if err == nil {
		err = g.install(ctx, key, s)
	}
	if err != nil {
		grp.err = err
		for _, e := range flatten(err) {
			g.log.Error("proxy group has no configuration", "group", key, "error", e)
		}
		return key, nil
	}
	g.log.Info("proxy group compiled", "group", key, "versions", shortVersions(s))
	g.installed()
	return key, nil
}

// release ends a stream's hold on its group.
func (g *groups) release(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	grp, ok := g.byKey[key]
	if !ok || grp.streams == 0 {
		return
	}
	grp.streams--
	if grp.streams == 0 {
		grp.idleSince = g.now()
	}
}

// apply compiles the groups that have a proxy and the groups cfg declares
// (see GroupLister) and, only if all succeed, installs the snapshots, frees
// the other groups and makes cfg the configuration for new groups. On error
// nothing changes: every group keeps its last good snapshot.
func (g *groups) apply(ctx context.Context, cfg Config) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.applyLocked(ctx, cfg)
	if err != nil {
		g.enc.abort()
	} else {
		g.enc.commit()
	}
	return err
}

func (g *groups) applyLocked(ctx context.Context, cfg Config) error {
	declared := map[string]map[string]string{}
	if gl, ok := cfg.(GroupLister); ok {
		for _, l := range gl.Selectors() {
			declared[labelset.Key(l)] = l
		}
	}
	live := map[string]map[string]string{}
	maps.Copy(live, declared)
	for key, grp := range g.byKey {
		if grp.streams > 0 {
			live[key] = grp.labels
		}
	}
	next := make(map[string]*snapshot, len(live))
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(live)) {
		s, err := compileGroup(cfg, key, live[key], g.enc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		next[key] = s
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if g.vet != nil {
		if err := g.vet(next); err != nil {
			return err
		}
	}
	for key := range g.byKey {
		if _, ok := live[key]; !ok {
			g.free(key) // no proxy: its configuration would be stale
		}
	}
	for _, key := range slices.Sorted(maps.Keys(next)) {
		grp := g.byKey[key]
		if grp == nil {
			grp = &group{labels: maps.Clone(live[key]), idleSince: g.now()}
			g.byKey[key] = grp
		}
		_, grp.declared = declared[key]
		grp.err = nil
		if next[key].sameVersions(g.current(key)) {
			continue // no change, no push
		}
		if err := g.install(ctx, key, next[key]); err != nil {
			return err
		}
		g.log.Info("proxy group updated", "group", key, "versions", shortVersions(next[key]))
	}
	g.metrics.groups.Set(float64(len(g.byKey)))
	g.cfg = cfg
	g.installed()
	return nil
}

// sweep frees the groups that have had no proxy for the grace period and
// that the configuration does not declare.
func (g *groups) sweep() {
	g.mu.Lock()
	defer g.mu.Unlock()
	now, freed := g.now(), 0
	for key, grp := range g.byKey {
		if !grp.declared && grp.streams == 0 && now.Sub(grp.idleSince) >= g.grace {
			g.free(key)
			freed++
		}
	}
	if freed > 0 {
		g.metrics.groups.Set(float64(len(g.byKey)))
		g.log.Info("freed proxy groups with no proxy", "freed", freed, "groups", len(g.byKey), "grace", g.grace.String())
		g.installed()
	}
}

// sweepEvery sweeps until ctx ends, often enough that a group outlives its
// grace period by half of it at most.
func (g *groups) sweepEvery(ctx context.Context) {
	every(ctx, max(g.grace/2, time.Millisecond), g.sweep)
}

// every runs fn every period until ctx ends.
func every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// free forgets a group with no stream: its snapshot, and the caches'
// state. g.mu must be held.
func (g *groups) free(key string) {
	delete(g.byKey, key)
	g.smu.Lock()
	delete(g.snaps, key)
	delete(g.prevNames, key)
	g.smu.Unlock()
	g.caches.clear(key)
	g.metrics.groupsFreed.Inc()
}

// compileGroup compiles and checks one group's resources.
func compileGroup(cfg Config, key string, l map[string]string, enc *encodings) (*snapshot, error) {
	r, err := cfg.Compile(maps.Clone(l))
	if err != nil {
		return nil, inGroup(key, err)
	}
	s, err := buildSnapshot(key, r, enc)
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
	// The current names are looked up in the snapshot's map of its
	// resources: a SotW ACK repeats every name of its type (1,000 route
	// configurations at 1,000 hosts), and a binary search of each in both
	// sorted lists was a quarter of the server's CPU in a SotW fan-out.
	cur, prev := s.served.Resources[cache.GetResponseType(typeURL)].Items, g.prevNames[key][typeURL]
	return func(name string) bool {
		if _, ok := cur[name]; ok {
			return true
		}
		_, inPrev := slices.BinarySearch(prev, name)
		return inPrev
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
	Declared bool              `json:"declared,omitempty"` // a Gateway selector: never freed
	Proxies  int               `json:"proxies"`            // connected streams
}

func (g *groups) status() []GroupStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]GroupStatus, 0, len(g.byKey))
	for _, key := range slices.Sorted(maps.Keys(g.byKey)) {
		grp := g.byKey[key]
		st := GroupStatus{Group: key, Labels: grp.labels, Declared: grp.declared, Proxies: grp.streams}
		if s := g.current(key); s != nil {
			st.Versions = map[string]string{}
			for t, v := range s.versions {
				st.Versions[shortType(t)] = v
			}
		}
		if err := grp.err; err != nil {
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
