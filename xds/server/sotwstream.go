package server

import (
	"maps"
	"slices"
	"strconv"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
)

// wildcardName is the explicit wildcard of the xDS protocol: a request
// naming "*" (alone or with other names) asks for every resource of its
// type.
const wildcardName = "*"

// sotwStream is one state-of-the-world ADS stream's state: per type, what
// it asks for and what it holds, in O(1) space in the common case (see
// sotwSub). Only the stream's goroutine touches it.
//
// The rules are go-control-plane v0.14's (pkg/server/sotw/v3 ads.go and
// pkg/cache/v3 simple.go), which the server used before: answer a request
// at once when the client's version differs from the served one or it lacks
// a resource it asks for, and otherwise when the version changes; a request
// whose nonce is not the last response's is stale and ignored. Listeners,
// clusters, routes and endpoints keep the SnapshotCache's ADS mode: every
// response carries the whole type (but see route changes, below), and a
// request naming some but not every
// resource of the type is not answered (Envoy asks again with the names
// from the listeners and clusters). Secrets keep its non-ADS mode: a
// response carries the secrets the request names, because Envoy asks for
// them in two steps — the clusters' secrets while the clusters warm, the
// listeners' only once LDS is asked for, after the clusters are warm
// (envoy#11120; ClusterManagerInitHelper::maybeFinishInitialize, source/
// common/upstream/cluster_manager_impl.cc, calls the initialized callback,
// which starts LDS, only once every cluster has initialized) — and would
// wait for the first answer until initial_fetch_timeout under the ADS rule.
//
// Responses carry the whole type, except for secrets (by name, above) and
// route configurations: a stream that holds every route configuration of
// the version the new one replaced is sent only those that changed
// (holdsPrev, which cites Envoy). Endpoints keep the whole type: the
// unified mux tells each EDS watch missing from a response that its
// resources are gone (WatchMap::onConfigUpdate, source/extensions/
// config_subscription/grpc/watch_map.cc), and this server has not been
// checked against every Envoy cluster type's handling of that. Delta is
// the protocol that sends only changes of every type.
type sotwStream struct {
	streamBase
	nonce int64
	subs  [numTypes]*sotwSub
	// ackedSecrets returns the secrets this proxy was seen to ACK at a
	// version of its group's secrets (proxies.go, ackedSecretNames).
	ackedSecrets func(version string) map[string]bool
	// names knows the quick sums of names the codec decoded (nil: each
	// is worked out).
	names *requestNames
}

// sotwSub is a SotW stream's record of one type. names and held point to
// the group's interned sets, so proxies asking for the same names share
// them; a stream whose names differ from every other's has its own.
type sotwSub struct {
	nonce    string // of the last response sent
	legacy   bool   // no names asked yet: an empty request asks for all
	wildcard bool
	names    *nameSet // the names asked for, "*" aside
	// held (not wildcard) are the names asked for that the stream was
	// sent; allAt is the version of the whole type it holds, if any.
	held  *nameSet
	allAt string
	// version is the version the client runs, from its last request (or
	// the one it rejected; see callbacks.sotwRequest).
	version string
	// waiting: the last request awaits a change of version.
	waiting bool
	// rejected: the client rejected the last response, so it may hold
	// less than it was sent (see holdsPrev).
	rejected bool
}

// sotwOut is a response to send, and the secret names it answers (for
// proxies.go's record of ACKed secrets).
type sotwOut struct {
	resp  *discoveryv3.DiscoveryResponse
	names []string
}

func newSotwStream(e *groupEntry, ackedSecrets func(string) map[string]bool) *sotwStream {
	return &sotwStream{streamBase: streamBase{entry: e, state: e.state.Load()}, ackedSecrets: ackedSecrets}
}

// request handles a request that passed the guard and the callbacks: it
// returns the response to send now, if any.
func (s *sotwStream) request(req *discoveryv3.DiscoveryRequest) *sotwOut {
	idx := typeIndex(req.GetTypeUrl())
	if idx < 0 {
		return nil // the guard drops types that are not served
	}
	st := s.state.types[idx]
	sub := s.subs[idx]
	switch {
	case sub == nil:
		sub = &sotwSub{legacy: true, wildcard: len(req.GetResourceNames()) == 0, names: emptyNames, held: emptyNames}
		s.subs[idx] = sub
		sub.subscribe(req.GetResourceNames(), &s.entry.names, s.names)
		s.resume(idx, sub, req, st)
	case sub.nonce != "" && req.GetResponseNonce() != sub.nonce:
		return nil // stale: it answers an older response (sotw/v3 ads.go)
	default:
		sub.subscribe(req.GetResourceNames(), &s.entry.names, s.names)
	}
	sub.version = req.GetVersionInfo()
	if req.GetErrorDetail() != nil {
		sub.rejected = true
	}
	if st == nil {
		sub.waiting = true
		return nil
	}
	if sub.version == st.version {
		sub.version = st.version // one string for every stream
		if !sub.lacks(st) {
			sub.waiting = true
			return nil
		}
	}
	sub.waiting = false
	return s.respond(idx, sub, st)
}

// changed moves the stream to the group's new state and returns the
// responses it calls for, in order (secrets first, then ADS order): one per
// type whose version changed and whose last request awaits it.
func (s *sotwStream) changed(next *groupState) []*sotwOut {
	s.state = next
	var out []*sotwOut
	for idx, sub := range s.subs {
		st := next.types[idx]
		if sub == nil || !sub.waiting || st == nil || st.version == sub.version {
			continue
		}
		sub.waiting = false
		if o := s.respond(idx, sub, st); o != nil {
			out = append(out, o)
		}
	}
	return out
}

// subscribe sets the names asked for, as go-control-plane's
// Subscription.SetResourceSubscription (pkg/server/stream/v3): an empty
// request keeps a legacy wildcard until the first names; "*" asks for all;
// otherwise the stream no longer holds what it no longer asks for.
func (sub *sotwSub) subscribe(names []string, in *interner, rn *requestNames) {
	if sub.legacy {
		if len(names) == 0 {
			return
		}
		sub.legacy = false
	}
	wild := slices.Contains(names, wildcardName)
	if wild {
		names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == wildcardName })
	}
	set := sub.names
	if !rn.holds(set, names) {
		set = in.of(names)
	}
	if !wild {
		held := sub.held
		if sub.wildcard {
			held = emptyNames // its record was the whole type, which names nothing
		}
		if held = in.intersect(held, set); sub.wildcard || held != sub.held {
			// It no longer holds what it no longer asks for, so it may
			// no longer hold the whole type (go-control-plane dropped
			// the names from its record of what it returned).
			sub.allAt = ""
		}
		sub.held = held
	}
	sub.wildcard, sub.names = wild, set
}

// lacks reports whether the client asks for a resource of st it was not
// sent (a new name, or a new wildcard). A stream turning to the wildcard
// that holds every resource of the version it runs, whether sent whole or
// named one by one, lacks nothing: go-control-plane answers a wildcard at
// the current version only when a resource was not returned to the stream
// (pkg/cache/v3 simple.go, CreateWatch), and Envoy gains nothing from the
// repeat: its request carries the version it holds
// (SotwSubscriptionState::getNextRequestInternal, source/extensions/
// config_subscription/grpc/xds_mux/sotw_subscription_state.cc) and it drops
// a secret whose hash is unchanged (SdsApi::onConfigUpdate, source/common/
// secret/sds_api.cc), only to ACK it.
func (sub *sotwSub) lacks(st *typeSnap) bool {
	if sub.wildcard {
		return sub.allAt != st.version
	}
	if sub.held == sub.names {
		return false
	}
	for n := range sub.names.names {
		if st.has(n) && !sub.held.has(n) {
			return true
		}
	}
	return false
}

// resume lets a client that starts a new stream presenting the current
// version keep what it has, on this replica or another: versions are
// content hashes, equal on every replica, so a client's version_info
// vouches for what it holds: Envoy's first request of a type on a new
// stream carries the last version it accepted and no nonce
// (SotwSubscriptionState::getNextRequestInternal and markStreamFresh,
// source/extensions/config_subscription/grpc/xds_mux/
// sotw_subscription_state.cc). go-control-plane v0.14 started every stream
// with an empty record and sent everything again.
//   - Listeners, clusters, routes and endpoints are only ever sent whole, so
//     a client at the current version holds all of them.
//   - Secrets are sent by name, so a client at the current version may hold
//     only some: only those this replica saw it ACK at that version are
//     trusted, and the rest are sent again (harmless: Envoy compares their
//     content).
//
// Delta needs none of this: the client sends initial_resource_versions.
func (s *sotwStream) resume(idx int, sub *sotwSub, req *discoveryv3.DiscoveryRequest, st *typeSnap) {
	v := req.GetVersionInfo()
	if req.GetResponseNonce() != "" || v == "" || st == nil || st.version != v {
		return
	}
	if idx != secretIdx {
		sub.held, sub.allAt = sub.names, st.version
		return
	}
	acked := s.ackedSecrets(v)
	if sub.wildcard {
		for n := range st.resources {
			if !acked[n] {
				return
			}
		}
		sub.allAt = st.version
		return
	}
	var held []string
	for n := range sub.names.names {
		if acked[n] {
			held = append(held, n)
		}
	}
	sub.held = s.entry.names.of(held)
	if st.namedBy(sub.held) {
		sub.allAt = st.version // it holds them all, should it turn to the wildcard
	}
}

// respond builds the type's response for the stream and records it as
// sent, or returns nil when the ADS rule withholds it.
func (s *sotwStream) respond(idx int, sub *sotwSub, st *typeSnap) *sotwOut {
	if idx != secretIdx && !sub.wildcard && sub.names.sum != st.namesSum && !st.namedBy(sub.names) {
		return nil
	}
	resp := &discoveryv3.DiscoveryResponse{VersionInfo: st.version, TypeUrl: st.typeURL}
	out := &sotwOut{resp: resp}
	body := st.body
	switch {
	case idx == secretIdx && !sub.wildcard:
		out.names = slices.Sorted(maps.Keys(sub.names.names))
		body = st.subset(out.names)
	case idx == routeIdx && sub.holdsPrev(st):
		body = st.changedBody
	}
	sub.rejected = false
	resp.ProtoReflect().SetUnknown(body)
	s.nonce++
	resp.Nonce = strconv.FormatInt(s.nonce, 10)
	sub.nonce = resp.GetNonce()
	if !sub.wildcard {
		sub.held = sub.names
	}
	switch {
	case sub.wildcard || idx != secretIdx || st.namedBy(sub.names):
		// The whole type went: a stream that turns to the wildcard
		// holds it (go-control-plane kept every name sent), and is not
		// sent it again (see lacks).
		sub.allAt = st.version
	default:
		sub.allAt = "" // some secrets of this version were not sent
	}
	return out
}

// holdsPrev reports whether the client holds every resource of the state
// st replaced, which it runs: then a response of route configurations
// carries only those that changed (typeSnap.changedBody). The stream was sent the
// whole type at that version (allAt), accepted it (version, not rejected),
// and asks for the same names since (held is names; a name added or
// dropped clears allAt or makes held differ).
//
// Envoy keeps a route configuration that a SotW response does not carry:
// the classic mux updates only the watches of RDS and EDS whose resources
// are in the response (GrpcMuxImpl::processDiscoveryResources, source/
// extensions/config_subscription/grpc/grpc_mux_impl.cc: "onConfigUpdate
// should be called only on watches ... that have updates in the message
// for EDS/RDS"), and where the unified mux tells a watch its resources are
// gone (WatchMap::onConfigUpdate, source/extensions/config_subscription/
// grpc/watch_map.cc), the RDS subscription keeps the route configuration
// it has (RdsRouteConfigSubscription::onConfigUpdate, source/common/rds/
// rds_route_config_subscription.cc: validateUpdateSize counts an empty
// update as update_empty and returns before anything is replaced). xDS groups only listeners and
// clusters as a whole in SotW (api-docs/xds_protocol.rst, "Grouping
// Resources into Responses"). A route change at 1,000 hosts sent every
// proxy 514 KB of route configurations, not the one that changed.
func (sub *sotwSub) holdsPrev(st *typeSnap) bool {
	prev := st.prev.Load()
	return prev != nil && !sub.wildcard && !sub.rejected && sub.held == sub.names &&
		sub.allAt == prev.version && sub.version == prev.version
}

// namedBy reports whether names include every resource of the type.
func (st *typeSnap) namedBy(names *nameSet) bool {
	if names.len() < len(st.resources) {
		return false
	}
	for n := range st.resources {
		if !names.has(n) {
			return false
		}
	}
	return true
}

// subset is the named resources of the type (sorted names), as a
// response's resources; a name it does not hold gets nothing (the removed
// ones among a type's changed names).
func (st *typeSnap) subset(sorted []string) []byte {
	var b []byte
	for _, n := range sorted {
		b = append(b, st.entries[n]...)
	}
	return b
}
