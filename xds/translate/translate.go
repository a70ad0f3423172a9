package translate

import (
	"cmp"
	"fmt"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/ir"
)

// Translate converts the IR of one proxy group into Envoy resources, each
// list sorted by name, and checks them (see Check) before returning. It is
// pure: the same IR always gives the same resources.
func Translate(p *ir.Proxy) (*Resources, error) { return translate(p, nil) }

// Translate is the package's Translate, taking each resource whose IR it
// has seen from the cache (see Cache); the result is the same.
func (c *Cache) Translate(p *ir.Proxy) (*Resources, error) { return translate(p, c) }

// built is one IR object's resources and, once checked, their findings.
type built struct {
	key   key
	entry *entry // from the cache; nil: built by this call
	msgs  []proto.Message
	found [][]finding
	parts *listenerParts // a listener built by parts; nil for the rest
	kind  string         // "listener", "route config", ...: for errors
	name  string         // the IR object's name
	build func() error   // builds msgs; nil when they came from the cache
	err   error          // build's
}

func translate(p *ir.Proxy, c *Cache) (*Resources, error) {
	var all []*built
	for _, l := range p.Listeners {
		b, err := lookupListener(c, l)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", l.Name, err)
		}
		b.kind, b.name = "listener", l.Name
		all = append(all, b)
	}
	// Every other IR object is one resource (a cluster with its endpoints:
	// two), keyed by its content: the keys are worked out on every core.
	type object struct {
		kind, name string
		v          any
		build      func() ([]proto.Message, error)
	}
	var objs []object
	for _, rc := range p.RouteConfigs {
		objs = append(objs, object{"route config", rc.Name, rc, func() ([]proto.Message, error) { return one(buildRouteConfig(rc)) }})
	}
	for _, cl := range p.Clusters {
		objs = append(objs, object{"cluster", cl.Name, cl, func() ([]proto.Message, error) { return clusterMsgs(buildCluster(cl)) }})
	}
	for _, s := range p.Secrets {
		objs = append(objs, object{"secret", s.Name, s, func() ([]proto.Message, error) { return one(buildSecret(s)) }})
	}
	var keys []key
	if c != nil {
		vs := make([]any, len(objs))
		for i, o := range objs {
			vs[i] = o.v
		}
		var (
			bad int
			err error
		)
		if keys, bad, err = contentKeys(vs); err != nil {
			return nil, fmt.Errorf("%s %q: %w", objs[bad].kind, objs[bad].name, err)
		}
	}
	for i, o := range objs {
		b := lookup(c, keys, i, o.build)
		b.kind, b.name = o.kind, o.name
		all = append(all, b)
	}
	if err := buildAll(all); err != nil {
		return nil, err
	}
	checkBuilt(all, c)
	r, found := assemble(all)
	if err := report(r, found); err != nil {
		return nil, err
	}
	return r, nil
}

// buildAll runs, on every core, the builds the cache could not spare (each
// resource, each new filter chain), then returns the first error in the
// order building one after the other meets them: listeners (each its own
// fields, then its chains), route configurations, clusters, secrets.
func buildAll(all []*built) error {
	var units []func()
	for _, b := range all {
		if b.build != nil {
			units = append(units, func() { b.err = b.build() })
		}
		if b.parts != nil {
			for _, part := range b.parts.chains {
				if part.build != nil {
					units = append(units, func() { part.err = part.build() })
				}
			}
		}
	}
	runUnits(len(units), func(i int) { units[i]() })
	for _, b := range all {
		if b.err != nil {
			return fmt.Errorf("%s %q: %w", b.kind, b.name, b.err)
		}
		if b.parts != nil && b.entry == nil {
			if err := b.parts.assemble(); err != nil {
				return fmt.Errorf("%s %q: %w", b.kind, b.name, err)
			}
			b.msgs = []proto.Message{b.parts.out}
		}
	}
	return nil
}

// lookup returns the resources of the i-th object, whose content key is
// keys[i], from the cache, or what builds them (no cache: keys is nil).
func lookup(c *Cache, keys []key, i int, build func() ([]proto.Message, error)) *built {
	b := &built{}
	if c != nil {
		b.key = keys[i]
		if e := c.get(b.key); e != nil {
			b.entry, b.msgs, b.found = e, e.msgs, e.found
			return b
		}
	}
	b.build = func() (err error) {
		b.msgs, err = build()
		return err
	}
	return b
}

func one[M proto.Message](m M, err error) ([]proto.Message, error) {
	return []proto.Message{m}, err
}

func clusterMsgs(cl *clusterv3.Cluster, cla *endpointv3.ClusterLoadAssignment, err error) ([]proto.Message, error) {
	if cla == nil {
		return []proto.Message{cl}, err
	}
	return []proto.Message{cl, cla}, err
}

// checkBuilt checks, on every core, the resources this call built (a
// listener's new chains first, then the listener), and keeps them in the
// cache with their findings.
func checkBuilt(all []*built, c *Cache) {
	var units []func()
	var listeners []*built
	for _, b := range all {
		if b.entry != nil {
			continue
		}
		if b.parts != nil {
			listeners = append(listeners, b)
			for _, part := range b.parts.chains {
				if part.entry == nil {
					units = append(units, func() { part.found = checkChain(part.fc) })
				}
			}
			continue
		}
		units = append(units, func() {
			b.found = make([][]finding, len(b.msgs))
			for j, m := range b.msgs {
				b.found[j] = checkMessage(m)
			}
		})
	}
	runUnits(len(units), func(i int) { units[i]() })
	runUnits(len(listeners), func(i int) {
		b := listeners[i]
		chains := make([][]finding, len(b.parts.chains))
		for j, part := range b.parts.chains {
			chains[j] = part.found
		}
		b.found = [][]finding{checkListenerParts(b.parts.out, chains)}
	})
	if c == nil {
		return
	}
	for _, b := range all {
		if b.entry != nil {
			continue
		}
		if b.parts != nil {
			for _, part := range b.parts.chains {
				if part.entry == nil {
					part.entry = &entry{msgs: []proto.Message{part.fc}, found: [][]finding{part.found}}
					c.put(part.key, part.entry)
				}
			}
		}
		b.entry = &entry{msgs: b.msgs, found: b.found}
		c.put(b.key, b.entry)
	}
}

// lookupListener returns a listener from the cache, or what builds it by
// parts (listener_parts.go).
func lookupListener(c *Cache, l *ir.Listener) (*built, error) {
	parts, err := chainKeys(c, l)
	if err != nil {
		return nil, err
	}
	b := &built{}
	if c != nil {
		if b.key, err = listenerKey(l, parts); err != nil {
			return nil, err
		}
		if e := c.get(b.key); e != nil {
			b.entry, b.msgs, b.found = e, e.msgs, e.found
			return b, nil
		}
	}
	b.parts = listenerByParts(c, l, parts)
	b.build = func() error { return b.parts.buildShell() }
	return b, nil
}

// checkMessage is the per-resource check of one resource of any type.
func checkMessage(m proto.Message) []finding {
	switch m := m.(type) {
	case *listenerv3.Listener:
		return checkListener(m)
	case *routev3.RouteConfiguration:
		return checkRoute(m)
	case *clusterv3.Cluster:
		return checkCluster(m)
	case *endpointv3.ClusterLoadAssignment:
		return checkEndpoints(m)
	case *tlsv3.Secret:
		return checkSecret(m)
	}
	panic(fmt.Sprintf("translate: no check for %T", m)) // every builder's output type is listed above
}

// placed is one resource with its findings.
type placed struct {
	msg   proto.Message
	found []finding
}

// assemble sorts the resources by name into Resources and returns their
// findings in Check's unit order (listeners, routes, clusters, endpoints,
// secrets). The sorts are stable so that duplicates, which report rejects,
// keep their input order.
func assemble(all []*built) (*Resources, [][]finding) {
	var ls, rs, cs, es, ss []placed
	for _, b := range all {
		for j, m := range b.msgs {
			p := placed{msg: m, found: b.found[j]}
			switch m.(type) {
			case *listenerv3.Listener:
				ls = append(ls, p)
			case *routev3.RouteConfiguration:
				rs = append(rs, p)
			case *clusterv3.Cluster:
				cs = append(cs, p)
			case *endpointv3.ClusterLoadAssignment:
				es = append(es, p)
			case *tlsv3.Secret:
				ss = append(ss, p)
			}
		}
	}
	r := &Resources{}
	var found [][]finding
	r.Listeners = place[*listenerv3.Listener](ls, &found)
	r.Routes = place[*routev3.RouteConfiguration](rs, &found)
	r.Clusters = place[*clusterv3.Cluster](cs, &found)
	r.Endpoints = place[*endpointv3.ClusterLoadAssignment](es, &found)
	r.Secrets = place[*tlsv3.Secret](ss, &found)
	return r, found
}

// place sorts ps by resource name, records their findings and returns the
// resources.
func place[M proto.Message](ps []placed, found *[][]finding) []M {
	slices.SortStableFunc(ps, func(a, b placed) int { return cmp.Compare(resourceName(a.msg), resourceName(b.msg)) })
	out := make([]M, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.msg.(M))
		*found = append(*found, p.found)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// resourceName is a resource's name (a load assignment's cluster name).
func resourceName(m proto.Message) string {
	if e, ok := m.(*endpointv3.ClusterLoadAssignment); ok {
		return e.GetClusterName()
	}
	return m.(interface{ GetName() string }).GetName()
}
