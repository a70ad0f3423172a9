package irbuild

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"sync"

	"github.com/trustgate/trustgate/internal/gencache"
	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
)

// Memo keeps the chains each TLS or TCP server built, and what building
// them wrote (clusters and secrets registered, errors, warnings), across
// builds, so that a reload after a one-host edit builds that host's server
// and takes the others' from the memo: at 10,000 hosts the servers' chains
// were three quarters of a build. The caller holds it across loads
// (compile.Cache); every build is the same with it as without it
// (TestBuildGolden, and compile's TestIncrementalEqualsCold).
//
// A server's entry is reused only when nothing its build read changed:
//
//   - the server itself: the entry is keyed by the proxy group's labels, its
//     Gateway's name, its index there and its port, and holds the Gateway
//     object (an edited Gateway is a new object: the document cache hands
//     back the same object only for the same text at the same place);
//   - the VirtualServices that can bind it (candidates: the same objects in
//     the same order);
//   - or, for a record without messages, a Gateway and VirtualServices
//     equal to those but for their places (memo_moved.go);
//   - everything else a server's build reads, as one world: the
//     DestinationRules and ServiceEntries (the same objects), the Secrets,
//     files and mesh configuration (equal values: secrets-directory entries
//     are read afresh on every load), and the load's short-name settings.
//     Any change there rebuilds every server.
//
// The passes that run once every chain is built (ClientCertificatePolicies,
// AuthorizationPolicies, confinement of hosts, identity headers, the
// default server) read all chains and run on every build; they are not in
// the memo, and what they change is a build's copy (passcopy.go). Under the
// kubernetes short-name rule every VirtualService is resolved into a new
// object on each build, so the memo finds nothing: builds are as without it.
type Memo struct {
	entries *gencache.Cache[serverKey, *serverBuild]

	mu    sync.Mutex
	world *world // the last build's, shared by its entries
}

// NewMemo returns an empty memo.
func NewMemo() *Memo { return &Memo{entries: gencache.New[serverKey, *serverBuild]()} }

// Commit ends a good load: only the entries it used are kept.
func (m *Memo) Commit() {
	if m != nil {
		m.entries.Commit()
	}
}

// Abort ends a failed load, keeping the last good one's entries too.
func (m *Memo) Abort() {
	if m != nil {
		m.entries.Abort()
	}
}

// Stats are the memo's counts, for tests and benchmarks.
func (m *Memo) Stats() gencache.Stats { return m.entries.Stats() }

// serverKey names one server of one proxy group: its Gateway by
// namespace and name (Validate rejects two of one name), its index there
// and its port.
type serverKey struct {
	node         string // labelset.Key of the group's labels
	gwNS, gwName string
	index        int
	port         uint32
}

// serverBuild is one server's memo entry: what its build read (its Gateway,
// its candidate VirtualServices, the world), and what it built, which no
// build changes (each takes copies, and shares the clusters and secrets
// registered, which nothing changes once built).
type serverBuild struct {
	world      *world
	candidates []*model.VirtualService
	rec        *serverRecord // rec.server.gw is the Gateway it was built from
}

// serverRecord is what building one server gave: its chains, and the
// writes of the fork that built it (merged as the parallel build merges
// any fork's). server is the serverRef it was built for, which a build
// that takes the record replaces with its own.
type serverRecord struct {
	chains []*chainInfo
	writes forkWrites
	server *serverRef
}

// world is what a server's build reads besides its server and its
// VirtualServices.
type world struct {
	destinationRules []*model.DestinationRule
	serviceEntries   []*model.ServiceEntry
	secrets          []*model.Secret
	files            map[string][]byte
	mesh             *model.MeshConfig
	secretsDirs      []string
	shortNames       model.ShortNameRule
	clusterDomain    string
}

// newWorld is cfg's world (cfg as loaded, before short names are resolved:
// the resolved objects are new on every build).
func newWorld(cfg *model.Config) *world {
	return &world{
		destinationRules: cfg.DestinationRules, serviceEntries: cfg.ServiceEntries,
		secrets: cfg.Secrets, files: cfg.Files, mesh: cfg.Mesh, secretsDirs: cfg.SecretsDirs,
		shortNames: cfg.ShortNames, clusterDomain: cfg.ClusterDomain,
	}
}

// same reports whether a build reading o reads what one reading w did.
func (w *world) same(o *world) bool {
	return slices.Equal(w.destinationRules, o.destinationRules) && slices.Equal(w.serviceEntries, o.serviceEntries) &&
		slices.EqualFunc(w.secrets, o.secrets, func(a, b *model.Secret) bool { return a == b || reflect.DeepEqual(a, b) }) &&
		maps.EqualFunc(w.files, o.files, bytes.Equal) &&
		reflect.DeepEqual(w.mesh, o.mesh) && slices.Equal(w.secretsDirs, o.secretsDirs) &&
		w.shortNames == o.shortNames && w.clusterDomain == o.clusterDomain
}

// worldFor returns the world of a build of cfg: the last build's when it is
// the same, so that its entries' worlds compare by pointer.
func (m *Memo) worldFor(cfg *model.Config) *world {
	w := newWorld(cfg)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.world != nil && m.world.same(w) {
		return m.world
	}
	m.world = w
	return w
}

// memoBuild is the memo's part of one build.
type memoBuild struct {
	memo  *Memo
	world *world
	node  string
	// compared holds whether two objects are equal but for their places
	// ([2]*model.Object -> bool; see movedOnly).
	compared sync.Map
}

// newMemoBuild starts a build of cfg (as loaded) for node with m; nil
// without a memo.
func newMemoBuild(m *Memo, cfg *model.Config, node Node) *memoBuild {
	if m == nil {
		return nil
	}
	return &memoBuild{memo: m, world: m.worldFor(cfg), node: labelset.Key(node.Labels)}
}

// serverRecord builds s's chains on a fork of b, or takes them from the
// memo. The record is the memo's, never changed: a build takes copies
// (take), with moved maps the objects the record names to this build's.
func (b *builder) serverRecord(g *portGroup, s *serverRef) (*serverRecord, *moved) {
	mb := b.memoBuild
	k := serverKey{node: mb.node, gwNS: s.gw.Metadata.Namespace, gwName: s.gw.Metadata.Name, index: s.index, port: g.port}
	cands := b.vsIndex().candidates(s)
	if e, ok := mb.memo.entries.Get(k); ok && e.world == mb.world {
		if e.rec.server.gw == s.gw && slices.Equal(e.candidates, cands) {
			return e.rec, nil
		}
		if mv, ok := mb.movedOnly(e, s.gw, cands); ok {
			return e.rec, mv
		}
	}
	f := b.fork()
	rec := &serverRecord{chains: f.serverChains(g, s), writes: f.writes(), server: s}
	mb.memo.entries.Put(k, &serverBuild{world: mb.world, candidates: slices.Clone(cands), rec: rec})
	return rec, nil
}

// taken is a build's copy of a record's chains for the passes
// (passcopy.go), and what maps the record's virtual hosts and routes to
// the copies'.
type taken struct {
	rec    *serverRecord
	server *serverRef
	chains []*chainInfo
	re     remap
	mv     *moved
}

// take copies r's chains for server s of this build, the objects mv maps
// replaced; the record stays unchanged.
func (r *serverRecord) take(s *serverRef, mv *moved) *taken {
	t := &taken{rec: r, server: s, chains: make([]*chainInfo, len(r.chains)), mv: mv}
	for i, ci := range r.chains {
		c := ci.passCopy(&t.re)
		c.servers = r.rebind(c.servers, s)
		mv.chain(c)
		t.chains[i] = c
	}
	return t
}

// mergeTaken takes in the writes of t's record, as mergeWrites does,
// keyed by t's copies and naming t's server and objects.
func (b *builder) mergeTaken(t *taken) {
	w := t.rec.writes
	if t.mv != nil {
		w.rec = t.mv.registrations(w.rec)
	}
	b.mergeUnkeyed(w)
	for vh, refs := range w.vhostServers {
		b.vhostServers[t.re.vhost(vh)] = t.rec.rebind(refs, t.server)
	}
	for rt, from := range w.routeOrigin {
		from.vs = t.mv.vs(from.vs)
		b.routeOrigin[t.re.route(rt)] = from
	}
}

// rebind is refs with r's serverRef replaced by s.
func (r *serverRecord) rebind(refs []*serverRef, s *serverRef) []*serverRef {
	out := make([]*serverRef, len(refs))
	for i, o := range refs {
		if o == r.server {
			o = s
		}
		out[i] = o
	}
	return out
}

// memoServerChains is allServerChains with the memo: each server's chains
// built on a fork of its own, or taken from the memo, and copied for this
// build, on up to b.workers goroutines, then merged in server order.
func (b *builder) memoServerChains(g *portGroup) []*chainInfo {
	n := len(g.servers)
	recs := make([]*taken, n)
	b.vsIndex() // built before the goroutines read it
	inRuns(n, max(min(b.workers, n), 1), func(_, lo, hi int) {
		for j := lo; j < hi; j++ {
			rec, mv := b.serverRecord(g, g.servers[j])
			recs[j] = rec.take(g.servers[j], mv)
		}
	})
	var chains []*chainInfo
	for _, t := range recs {
		b.mergeTaken(t)
		chains = append(chains, t.chains...)
	}
	return chains
}
