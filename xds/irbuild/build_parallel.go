package irbuild

import (
	"maps"
	"sync"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// The servers of a port are built on every core: at 10,000 hosts their
// chains are three quarters of a Build. Each worker builds a contiguous run
// of the servers on a fork of the builder, which reads what the whole Build
// shares (the configuration, the lookups, the VirtualService index: all
// built before and not written after) and keeps what it writes to itself;
// the forks are then merged in server order, so the result is the one
// building them one after the other gives (TestParallelBuildEqualsSerial):
//
//   - a cluster or secret is registered once, by its first reference, and
//     a later reference that differs is an error naming the first. A fork
//     only records each registration (the name it returns does not depend
//     on what was registered before), and the merge replays them in order
//     through addCluster and addSecret;
//   - errors are deduplicated by message and sorted on output, warnings
//     kept by message (the last one written), the destinations' policies
//     by cluster (the last one written, which is also what the fork's own
//     reads see: a route reads the policy of the cluster it has just
//     registered);
//   - the virtual hosts' servers and the routes' origins are keyed by the
//     fork's own virtual hosts and routes.

// registrations are a fork's addCluster and addSecret calls, in order.
type registrations struct {
	clusters []clusterEntry
	secrets  []secretEntry
}

// secretEntry is one addSecret call.
type secretEntry struct {
	obj    *model.Object
	path   string
	secret *ir.Secret
}

// fork is a builder for a run of servers: b's shared, read-only state and
// its own collections.
func (b *builder) fork() *builder {
	return &builder{
		cfg: b.cfg, node: b.node, look: b.look, vsIdx: b.vsIndex(),
		seenErrs: map[string]bool{}, warnings: map[string]*model.FieldError{},
		vhostServers: map[*ir.VirtualHost][]*serverRef{},
		routeOrigin:  map[*ir.Route]routeFrom{},
		destPolicy:   map[string]destPolicy{},
		rec:          &registrations{},
	}
}

// forkWrites are what a fork wrote: all that merge takes in.
type forkWrites struct {
	errs         model.Errors
	warnings     map[string]*model.FieldError
	rec          *registrations
	destPolicy   map[string]destPolicy
	vhostServers map[*ir.VirtualHost][]*serverRef
	routeOrigin  map[*ir.Route]routeFrom
}

// writes are what fork f wrote.
func (f *builder) writes() forkWrites {
	return forkWrites{
		errs: f.errs, warnings: f.warnings, rec: f.rec, destPolicy: f.destPolicy,
		vhostServers: f.vhostServers, routeOrigin: f.routeOrigin,
	}
}

// merge takes in what fork f wrote, as if b had built f's servers itself.
func (b *builder) merge(f *builder) {
	b.mergeUnkeyed(f.writes())
	maps.Copy(b.vhostServers, f.vhostServers)
	maps.Copy(b.routeOrigin, f.routeOrigin)
}

// mergeUnkeyed takes in what a fork wrote but what is keyed by its virtual
// hosts and routes (merge copies those, mergeTaken maps them to a build's
// copies).
func (b *builder) mergeUnkeyed(w forkWrites) {
	for _, e := range w.errs.List() {
		if k := e.Error(); !b.seenErrs[k] {
			b.seenErrs[k] = true
			b.errs.Add(e)
		}
	}
	maps.Copy(b.warnings, w.warnings)
	for _, c := range w.rec.clusters {
		b.addCluster(c.cluster, c.obj, c.path)
	}
	for _, s := range w.rec.secrets {
		b.addSecret(s.obj, s.path, s.secret)
	}
	maps.Copy(b.destPolicy, w.destPolicy)
}

// allServerChains builds the chains of g's TLS and TCP servers, in server
// order, on up to b.workers forks.
func (b *builder) allServerChains(g *portGroup) []*chainInfo {
	if b.memoBuild != nil {
		return b.memoServerChains(g)
	}
	n := len(g.servers)
	w := min(b.workers, n)
	if w <= 1 {
		var chains []*chainInfo
		for _, s := range g.servers {
			chains = append(chains, b.serverChains(g, s)...)
		}
		return chains
	}
	forks := make([]*builder, w)
	for i := range forks {
		forks[i] = b.fork()
	}
	built := make([][]*chainInfo, n)
	inRuns(n, w, func(run, lo, hi int) {
		for j := lo; j < hi; j++ {
			built[j] = forks[run].serverChains(g, g.servers[j])
		}
	})
	var chains []*chainInfo
	for _, f := range forks {
		b.merge(f)
	}
	for _, cs := range built {
		chains = append(chains, cs...)
	}
	return chains
}

// inRuns splits 0..n-1 into w contiguous runs and calls do for each on a
// goroutine of its own, returning once all have.
func inRuns(n, w int, do func(run, lo, hi int)) {
	var wg sync.WaitGroup
	for i := range w {
		lo, hi := i*n/w, (i+1)*n/w
		wg.Go(func() { do(i, lo, hi) })
	}
	wg.Wait()
}
