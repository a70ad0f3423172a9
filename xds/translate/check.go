package translate

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/internal/envoyfmt"
	"github.com/trustgate/trustgate/internal/protowalk"
	"github.com/trustgate/trustgate/internal/re2size"
)

// Errors reported by Check, for errors.Is.
var (
	ErrInvalid          = errors.New("fails Envoy's validation rules")
	ErrEmptyName        = errors.New("resource without a name")
	ErrDuplicateName    = errors.New("duplicate resource name")
	ErrMissingCluster   = errors.New("cluster not found")
	ErrMissingRoute     = errors.New("route configuration not found")
	ErrMissingSecret    = errors.New("secret not found")
	ErrMissingEndpoints = errors.New("cluster load assignment not found")
	ErrSDSConfigSource  = errors.New("sds_config is not the shared ADS config source")
	ErrRegex            = errors.New("regex is not one Envoy accepts (RE2 syntax and program size)")
	ErrDuplicateDomain  = errors.New("domain in two virtual hosts")
	ErrServerName       = errors.New("server name is neither exact nor *.suffix")
	ErrDuplicateMatch   = errors.New("filter chains with the same match")
	ErrWeights          = errors.New("weighted clusters with a zero total weight")
	// ErrDirectResponseBody: a direct-response body larger than its route
	// configuration's max_direct_response_body_size_bytes (4096 unset).
	ErrDirectResponseBody = errors.New("direct response body over the route configuration's limit")
)

// Check validates resources the way Envoy would before accepting them:
// every resource and every typed config inside it (ValidateAll does not look
// into an Any), references between resources (clusters, route
// configurations, SDS secrets, EDS assignments), RE2 regexes, virtual host
// domains and filter chain matches. It reports every problem, joined.
func Check(r *Resources) error {
	// One unit a resource, in the order listeners, routes, clusters,
	// endpoints, secrets: each a pure function of its resource, which is
	// what lets Translate keep its findings with the resource (Cache).
	msgs := r.All()
	found := make([][]finding, len(msgs))
	runUnits(len(msgs), func(i int) { found[i] = checkMessage(msgs[i]) })
	return report(r, found)
}

func checkListener(l *listenerv3.Listener) []finding {
	c := newChecker(fmt.Sprintf("listener %q", l.GetName()))
	c.resource(l)
	c.filterChains(l)
	return c.found
}

func checkRoute(rc *routev3.RouteConfiguration) []finding {
	c := newChecker(fmt.Sprintf("route config %q", rc.GetName()))
	c.resource(rc)
	c.domains(rc)
	c.directResponses(rc)
	return c.found
}

func checkCluster(cl *clusterv3.Cluster) []finding {
	c := newChecker(fmt.Sprintf("cluster %q", cl.GetName()))
	c.resource(cl)
	c.eds(cl)
	return c.found
}

func checkEndpoints(e *endpointv3.ClusterLoadAssignment) []finding {
	c := newChecker(fmt.Sprintf("cluster load assignment %q", e.GetClusterName()))
	c.resource(e)
	return c.found
}

func checkSecret(s *tlsv3.Secret) []finding {
	c := newChecker(fmt.Sprintf("secret %q", s.GetName()))
	c.resource(s)
	return c.found
}

// report records the whole-set findings of r (names, duplicates), then
// each unit's findings in unit order, a reference finding only when its
// name is missing from r, each distinct finding once: the findings and
// order of checking the units one after the other.
func report(r *Resources, found [][]finding) error {
	rep := &reporter{sets: nameSets{clusters: names(r.Clusters), routes: names(r.Routes), secrets: names(r.Secrets)}}
	rep.endpointNames(r.Endpoints)
	duplicates(rep, "listener", r.Listeners)
	duplicates(rep, "route config", r.Routes)
	duplicates(rep, "cluster", r.Clusters)
	duplicates(rep, "secret", r.Secrets)
	for _, fs := range found {
		for _, f := range fs {
			if f.ref == refNone || !rep.sets.has(f.ref, f.name) {
				rep.add(f.error())
			}
		}
	}
	return errors.Join(rep.errs...)
}

// reporter collects Check's findings over the whole set of resources.
type reporter struct {
	sets nameSets
	errs []error
}

// add records e unless the same finding is recorded.
func (r *reporter) add(e error) {
	for _, prev := range r.errs {
		if prev.Error() == e.Error() {
			return
		}
	}
	r.errs = append(r.errs, e)
}

// names is the set of resource names.
func names[T interface{ GetName() string }](rs []T) map[string]bool {
	out := map[string]bool{}
	for _, r := range rs {
		out[r.GetName()] = true
	}
	return out
}

// endpointNames records the load assignments' cluster names, reporting
// empty and duplicate ones.
func (r *reporter) endpointNames(es []*endpointv3.ClusterLoadAssignment) {
	r.sets.endpoints = map[string]bool{}
	for i, e := range es {
		name := e.GetClusterName()
		switch {
		case name == "":
			r.errs = append(r.errs, fmt.Errorf("cluster load assignment #%d: %w", i, ErrEmptyName))
		case r.sets.endpoints[name]:
			r.errs = append(r.errs, fmt.Errorf("cluster load assignment %q: %w", name, ErrDuplicateName))
		}
		r.sets.endpoints[name] = true
	}
}

// duplicates reports resources without a name (Envoy keys every xDS
// resource by it) and names used twice within one kind.
func duplicates[T interface{ GetName() string }](rep *reporter, kind string, rs []T) {
	seen := map[string]bool{}
	for i, r := range rs {
		if r.GetName() == "" {
			rep.errs = append(rep.errs, fmt.Errorf("%s #%d: %w", kind, i, ErrEmptyName))
			continue
		}
		if seen[r.GetName()] {
			rep.errs = append(rep.errs, fmt.Errorf("%s %q: %w", kind, r.GetName(), ErrDuplicateName))
		}
		seen[r.GetName()] = true
	}
}

// resource validates one resource and walks everything inside it,
// typed configs included.
func (c *checker) resource(m validatable) {
	c.validate(m)
	c.walk(m, c.visit)
}

// validate runs the resource's own validation rules (not into its Anys).
func (c *checker) validate(m validatable) {
	if err := m.ValidateAll(); err != nil {
		c.fail(string(m.ProtoReflect().Descriptor().Name()), fmt.Errorf("%w: %w", ErrInvalid, err))
	}
}

// walk walks everything inside m, typed configs included, with visit:
// c.visit, or one that hands messages on to it.
func (c *checker) walk(m proto.Message, visit func(proto.Message, *anypb.Any) error) {
	// visit and badTypedConfig collect findings and return nil, so the
	// walk covers everything; an error here is the walker's own.
	if err := (protowalk.Walker{Visit: visit, BadAny: c.badTypedConfig, Targets: inspected}).Walk(m); err != nil {
		c.fail("walking", err)
	}
}

// visit checks one message, in a stable order (protowalk's), so that
// findings come out in the same order on every run. ValidateAll does not
// look into an Any, so each typed config is validated here.
//
// An Any toAny packed is not unpacked: the findings of its payload, walked
// by toAny (packed.go), are spliced in its place.
func (c *checker) visit(m proto.Message, in *anypb.Any) error {
	if a, ok := m.(*anypb.Any); ok {
		return c.packedAny(a)
	}
	if v, ok := m.(validatable); ok && in != nil {
		if err := v.ValidateAll(); err != nil {
			c.fail(in.GetTypeUrl(), fmt.Errorf("%w: %w", ErrInvalid, err))
		}
	}
	return c.inspect(m)
}

// inspected are the types inspect looks at: the walks skip what can hold
// none of them (nor an Any, whose payload visit validates).
var inspected = protowalk.NewTargets(
	proto.MessageName(&matcherv3.RegexMatcher{}),
	proto.MessageName(&corev3.HeaderValue{}),
	proto.MessageName(&corev3.SubstitutionFormatString{}),
	proto.MessageName(&tlsv3.SdsSecretConfig{}),
	proto.MessageName(&hcmv3.Rds{}),
	proto.MessageName(&routev3.RouteAction{}),
	proto.MessageName(&routev3.WeightedCluster{}),
	proto.MessageName(&tcpv3.TcpProxy{}),
)

// inspect checks what one message holds, as visit does, but its
// validation when it is a typed config. Each type it looks at is in
// inspected.
func (c *checker) inspect(m proto.Message) error {
	switch m := m.(type) {
	case *matcherv3.RegexMatcher:
		c.regex(m.GetRegex())
	case *corev3.HeaderValue:
		// Envoy parses every header value it adds with its substitution
		// formatter; an unknown command fails the route configuration.
		if err := envoyfmt.Check(m.GetValue()); err != nil {
			c.fail(fmt.Sprintf("header %q", m.GetKey()), err)
		}
	case *corev3.SubstitutionFormatString:
		// An access-log format is parsed by the same formatter: an unknown
		// command fails the listener.
		c.formats(m)
	case *tlsv3.SdsSecretConfig:
		c.needs(refSecret, m.GetName())
		if !proto.Equal(m.GetSdsConfig(), adsConfigSource()) {
			c.fail(fmt.Sprintf("secret %q", m.GetName()), ErrSDSConfigSource)
		}
	case *hcmv3.Rds:
		c.needs(refRoute, m.GetRouteConfigName())
	case *routev3.RouteAction:
		if name, ok := m.GetClusterSpecifier().(*routev3.RouteAction_Cluster); ok {
			c.cluster(name.Cluster)
		}
	case *routev3.WeightedCluster:
		var total uint64
		for _, w := range m.GetClusters() {
			c.cluster(w.GetName())
			total += uint64(w.GetWeight().GetValue())
		}
		if total == 0 {
			c.fail("weighted clusters", ErrWeights)
		}
	case *tcpv3.TcpProxy:
		c.tcpProxy(m)
	}
	return nil
}

// badTypedConfig reports an Any whose payload does not unpack.
func (c *checker) badTypedConfig(a *anypb.Any, err error) error {
	c.fail(a.GetTypeUrl(), fmt.Errorf("%w: %w", ErrInvalid, err))
	return nil
}

// cluster records a reference to a cluster.
func (c *checker) cluster(name string) { c.needs(refCluster, name) }

// tcpProxy checks a tcp_proxy's clusters.
func (c *checker) tcpProxy(p *tcpv3.TcpProxy) {
	switch s := p.GetClusterSpecifier().(type) {
	case *tcpv3.TcpProxy_Cluster:
		c.cluster(s.Cluster)
	case *tcpv3.TcpProxy_WeightedClusters:
		var total uint64
		for _, w := range s.WeightedClusters.GetClusters() {
			c.cluster(w.GetName())
			total += uint64(w.GetWeight())
		}
		if total == 0 {
			c.fail("tcp weighted clusters", ErrWeights)
		}
	}
}

// eds checks that an EDS cluster has its ClusterLoadAssignment.
func (c *checker) eds(cl *clusterv3.Cluster) {
	if cl.GetType() != clusterv3.Cluster_EDS {
		return
	}
	name := cl.GetEdsClusterConfig().GetServiceName()
	if name == "" {
		name = cl.GetName()
	}
	c.needs(refEndpoints, name)
}

// regex rejects a pattern that RE2 cannot parse or whose program is larger
// than the runtime limit trustgate's bootstrap sets (Envoy's
// CompiledGoogleReMatcher, source/common/common/regex.cc). Go's
// regexp/syntax parses RE2's syntax; the size is RE2's own, measured by
// re2size, as in model's validation.
func (c *checker) regex(re string) {
	if _, err := regexp.Compile(re); err != nil {
		c.fail(fmt.Sprintf("regex %q", re), fmt.Errorf("%w: %w", ErrRegex, err))
		return
	}
	if err := re2size.Check(re, re2size.Limit); err != nil {
		c.fail(fmt.Sprintf("regex %q", re), fmt.Errorf("%w: %w", ErrRegex, err))
	}
}

// defaultMaxDirectResponseBody is Envoy's limit on a direct-response body
// when max_direct_response_body_size_bytes is unset
// (DEFAULT_MAX_DIRECT_RESPONSE_BODY_SIZE_BYTES, source/common/router/config_impl.cc).
const defaultMaxDirectResponseBody = 4096

// directResponses rejects an inline direct-response body larger than the
// route configuration allows: Envoy's ConfigUtility::parseDirectResponseBody
// fails the whole configuration ("response body size is N bytes; maximum
// is M").
func (c *checker) directResponses(rc *routev3.RouteConfiguration) {
	limit := uint32(defaultMaxDirectResponseBody)
	if m := rc.GetMaxDirectResponseBodySizeBytes(); m != nil {
		limit = m.GetValue()
	}
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			if n := directResponseBodySize(r); n > int(limit) {
				c.fail(fmt.Sprintf("route %q", r.GetName()), fmt.Errorf("%w: body is %d bytes; the route configuration allows %d", ErrDirectResponseBody, n, limit))
			}
		}
	}
}

// directResponseBodySize is the size of a route's inline direct-response
// body, 0 if it has none.
func directResponseBodySize(r *routev3.Route) int {
	b := r.GetDirectResponse().GetBody()
	return max(len(b.GetInlineString()), len(b.GetInlineBytes()))
}

// domains rejects a domain served by two virtual hosts of one route
// configuration (Envoy compares them case-insensitively).
func (c *checker) domains(rc *routev3.RouteConfiguration) {
	owner := map[string]string{}
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			key := strings.ToLower(d)
			if prev, dup := owner[key]; dup {
				c.fail(fmt.Sprintf("domain %q in virtual hosts %q and %q", d, prev, vh.GetName()), ErrDuplicateDomain)
				continue
			}
			owner[key] = vh.GetName()
		}
	}
}

// filterChains checks SNI names and that no two chains of a listener match
// the same connections, which Envoy rejects.
func (c *checker) filterChains(l *listenerv3.Listener) {
	seen := map[string]string{}
	for _, fc := range l.GetFilterChains() {
		m := fc.GetFilterChainMatch()
		for _, sn := range m.GetServerNames() {
			if !validServerName(sn) {
				c.fail(fmt.Sprintf("chain %q: server name %q", fc.GetName(), sn), ErrServerName)
			}
		}
		rest := proto.Clone(m).(*listenerv3.FilterChainMatch)
		if rest == nil {
			rest = &listenerv3.FilterChainMatch{}
		}
		rest.ServerNames = nil
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(rest)
		if err != nil {
			c.fail(fmt.Sprintf("chain %q", fc.GetName()), fmt.Errorf("%w: %w", ErrInvalid, err))
			continue
		}
		sns := m.GetServerNames()
		if len(sns) == 0 {
			sns = []string{""}
		}
		for _, sn := range sns {
			key := string(b) + "\x00" + sn
			if prev, dup := seen[key]; dup {
				c.fail(fmt.Sprintf("chains %q and %q (server name %q)", prev, fc.GetName(), sn), ErrDuplicateMatch)
				continue
			}
			seen[key] = fc.GetName()
		}
	}
}

// validServerName accepts "example.com" and "*.example.com" only: Envoy
// rejects "*", partial wildcards and wildcards past the first label.
func validServerName(sn string) bool {
	rest, wild := strings.CutPrefix(sn, "*.")
	return rest != "" && !strings.Contains(rest, "*") && (wild || !strings.HasPrefix(sn, "."))
}
