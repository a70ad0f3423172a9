package irbuild

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// Node identifies the proxy group being built: Gateways select it by label.
type Node struct {
	ID     string
	Labels map[string]string
}

// defaultConnectTimeout is Istio's cluster connect timeout.
const defaultConnectTimeout = 10 * time.Second

// builder carries the state of one Build: the input, the collected errors
// and warnings, and the resources shared between chains.
type builder struct {
	cfg      *model.Config
	node     Node
	errs     model.Errors
	seenErrs map[string]bool
	warnings map[string]*model.FieldError
	secrets  map[string]*ir.Secret
	clusters map[string]*clusterEntry
	look     *lookups             // DestinationRules and ServiceEntries by host
	vsIdx    *virtualServiceIndex // built on first use
	// chains are the build's, once every chain is built; targets index
	// them by Gateway section, on the first policy's lookup (a build
	// without policies needs none).
	chains  []*chainInfo
	targets chainTargets
	// vhostServers are the servers each VirtualService's virtual host
	// comes through, for messages.
	vhostServers map[*ir.VirtualHost][]*serverRef
	// routeOrigin is where each HTTP route was written, for messages.
	routeOrigin map[*ir.Route]routeFrom
	// destPolicy is what routes to each cluster take from its policy.
	destPolicy map[string]destPolicy
	// workers is how many forks build a port's servers (build_parallel.go);
	// rec, set in a fork, records its registrations for the merge.
	workers int
	rec     *registrations
	// memoBuild, set when the build has a Memo, takes servers' chains
	// from it (memo.go).
	memoBuild *memoBuild
}

// clusterEntry is a built cluster and the reference that first built it, to
// name both sides of a conflict.
type clusterEntry struct {
	cluster *ir.Cluster
	obj     *model.Object // the first reference, named only on a conflict
	path    string
}

// origin names the reference that first built the cluster: formatted only
// for a conflict's message, since every destination of every route
// registers its cluster.
func (e *clusterEntry) origin() string {
	return fmt.Sprintf("%s %s%s", e.obj.Ref(), e.path, e.obj.Pos.At(e.path))
}

// Build resolves the configuration for the proxies labelled node.Labels:
// the Gateways that select them, the VirtualServices bound to those, the
// clusters, secrets and policies these need. It assumes a validated config
// but reports, never panics on, a bad one: every error is a
// *model.FieldError, returned together as a *model.ErrorList.
func Build(cfg *model.Config, node Node) (*ir.Proxy, error) {
	p, _, err := BuildWithFindings(cfg, node)
	return p, err
}

// BuildWithFindings is Build that also returns the proxy's warnings
// (Proxy.Warnings) with their parts (file, object, field), in the same
// order, for machine-readable reports. They are not in the IR, which imports
// nothing of the model.
func BuildWithFindings(cfg *model.Config, node Node) (*ir.Proxy, []*model.FieldError, error) {
	return buildWithWorkers(cfg, node, runtime.GOMAXPROCS(0), nil)
}

// BuildWithMemo is BuildWithFindings taking what it can from m and keeping
// what it builds there (see Memo); nil m: none.
func BuildWithMemo(cfg *model.Config, node Node, m *Memo) (*ir.Proxy, []*model.FieldError, error) {
	return buildWithWorkers(cfg, node, runtime.GOMAXPROCS(0), m)
}

// buildWithWorkers is BuildWithMemo with the servers of a port built on
// up to workers forks (1: one after the other).
func buildWithWorkers(cfg *model.Config, node Node, workers int, m *Memo) (*ir.Proxy, []*model.FieldError, error) {
	if cfg == nil {
		return nil, nil, errors.New("irbuild.Build: nil config")
	}
	b := newBuilder(cfg, node, workers, newMemoBuild(m, cfg, node))
	groups := b.portGroups()
	var listeners []*ir.Listener
	var chains []*chainInfo
	for _, g := range groups {
		l, cs := b.buildListener(g)
		if l != nil {
			listeners = append(listeners, l)
			chains = append(chains, cs...)
		}
	}
	b.chains = chains
	b.applyCertPolicies(chains)
	b.applyAuthorizationPolicies(chains)
	b.finishChains(chains)
	stripIdentityHeaders(chains)
	b.warnUnprotectedHosts(chains)
	setTLSInspectors(listeners)
	b.setAccessLogs(listeners)
	if err := b.errs.Err(); err != nil {
		return nil, nil, err
	}
	p := b.proxy(listeners, chains)
	findings := make([]*model.FieldError, 0, len(p.Warnings))
	for _, w := range p.Warnings {
		findings = append(findings, b.warnings[w])
	}
	return p, findings, nil
}

// newBuilder starts a build of cfg (as loaded) for node.
func newBuilder(cfg *model.Config, node Node, workers int, mb *memoBuild) *builder {
	cfg = cfg.ResolveShortNames() // Istio's rule, when configured
	b := &builder{
		cfg: cfg, node: node,
		seenErrs: map[string]bool{}, warnings: map[string]*model.FieldError{},
		secrets: map[string]*ir.Secret{}, clusters: map[string]*clusterEntry{},
		vhostServers: map[*ir.VirtualHost][]*serverRef{},
		routeOrigin:  map[*ir.Route]routeFrom{},
		destPolicy:   map[string]destPolicy{},
		workers:      workers,
		memoBuild:    mb,
	}
	b.look = newLookups(cfg, b.gatewayApplies)
	return b
}

// proxy assembles the sorted result.
func (b *builder) proxy(listeners []*ir.Listener, chains []*chainInfo) *ir.Proxy {
	p := &ir.Proxy{Listeners: listeners}
	sort.Slice(p.Listeners, func(i, j int) bool { return p.Listeners[i].Port < p.Listeners[j].Port })
	for _, ci := range chains {
		if ci.rc != nil {
			p.RouteConfigs = append(p.RouteConfigs, ci.rc)
		}
	}
	sort.Slice(p.RouteConfigs, func(i, j int) bool { return p.RouteConfigs[i].Name < p.RouteConfigs[j].Name })
	for _, name := range slices.Sorted(maps.Keys(b.clusters)) {
		p.Clusters = append(p.Clusters, b.clusters[name].cluster)
	}
	for _, name := range slices.Sorted(maps.Keys(b.secrets)) {
		p.Secrets = append(p.Secrets, b.secrets[name])
	}
	p.Warnings = slices.Sorted(maps.Keys(b.warnings))
	return p
}

// errorf records a user error at path inside obj; the same message reported
// twice (a VirtualService bound to two servers) is kept once.
func (b *builder) errorf(obj *model.Object, path, format string, args ...any) {
	e := obj.Errorf(path, format, args...)
	if k := e.Error(); !b.seenErrs[k] {
		b.seenErrs[k] = true
		b.errs.Add(e)
	}
}

// warnf records a warning about obj (deduplicated, sorted on output).
func (b *builder) warnf(obj *model.Object, path, format string, args ...any) {
	e := obj.Errorf(path, format, args...)
	e.Warning = true
	b.warnings[e.Error()] = e
}

// Selectors returns the distinct Gateway selectors of cfg, sorted, so that a
// check can build the configuration of every proxy group the Gateways
// describe. An empty selector (every proxy) is returned as an empty map.
func Selectors(cfg *model.Config) []map[string]string {
	if cfg == nil {
		return nil
	}
	byKey := map[string]map[string]string{}
	for _, gw := range cfg.Gateways {
		sel := map[string]string{}
		maps.Copy(sel, gw.Spec.Selector)
		byKey[labelset.Key(sel)] = sel
	}
	var out []map[string]string
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, byKey[k])
	}
	return out
}

// parseDuration parses an Istio (protobuf JSON) duration such as "10s",
// "1.5s" or "100ms"; Go's syntax is a superset.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. \"10s\")", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

// itoa formats an index for field paths.
func itoa(i int) string { return strconv.Itoa(i) }

// sortedUnique sorts and deduplicates a string slice in place.
func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
