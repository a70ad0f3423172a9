package server

import (
	"slices"
	"strconv"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
)

// deltaStream is one delta (incremental) ADS stream's state. Only the
// stream's goroutine touches it.
//
// The rules are go-control-plane v0.14's (pkg/server/delta/v3 server.go,
// pkg/cache/v3 delta.go createDeltaResponse), which the server used
// before: a response carries the resources whose version differs from what
// the stream holds, and the names it holds that are gone; a first wildcard
// request is answered even when empty; otherwise nothing changed means no
// response. Envoy keeps the same record on its side
// (DeltaSubscriptionState, source/extensions/config_subscription/grpc/
// delta_subscription_state.cc: handleGoodResponse stores each resource's
// version, and a reconnect sends them as initial_resource_versions).
type deltaStream struct {
	streamBase
	nonce int64
	subs  [numTypes]*deltaSub
}

// deltaSub is a delta stream's record of one type. In the common case the
// stream holds exactly base's version of every resource it subscribes to
// (wildcard: of every resource), but fresh: the record is base and the
// group's interned name set, and only changed names are compared when the
// group's state moves on from base. A stream whose record cannot be said so
// (it resumed with other versions, or unsubscribed in a way that leaves
// some resources to send again) keeps its own map until its next response.
type deltaSub struct {
	legacy   bool // no names subscribed yet: an empty request asks for all
	wildcard bool
	names    *nameSet // explicit subscriptions, "*" aside
	base     *typeSnap
	fresh    []string          // subscribed since base was sent, in base, not yet sent
	own      map[string]string // when set, the record in place of base
	waiting  bool
}

func newDeltaStream(e *groupEntry) *deltaStream {
	return &deltaStream{streamBase: streamBase{entry: e, state: e.state.Load()}}
}

// request handles a request that passed the guard and the callbacks: it
// returns the response to send now, if any.
func (s *deltaStream) request(req *discoveryv3.DeltaDiscoveryRequest) *discoveryv3.DeltaDiscoveryResponse {
	idx := typeIndex(req.GetTypeUrl())
	if idx < 0 {
		return nil
	}
	sub := s.subs[idx]
	if sub == nil {
		// stream/v3 NewDeltaSubscription, with the legacy wildcard allowed.
		sub = &deltaSub{legacy: true, wildcard: len(req.GetResourceNamesSubscribe()) == 0, names: emptyNames}
		if v := req.GetInitialResourceVersions(); len(v) > 0 {
			// The stream's own: each Recv decodes into a new request,
			// which nothing reads once the stream has handled it.
			sub.own = v
		}
		s.subs[idx] = sub
	}
	sub.update(req.GetResourceNamesSubscribe(), req.GetResourceNamesUnsubscribe(), &s.entry.names)
	sub.waiting = true
	st := s.state.types[idx]
	if st == nil {
		return nil
	}
	return s.respond(sub, st, sub.wildcard && req.GetResponseNonce() == "")
}

// changed moves the stream to the group's new state and returns the
// responses it calls for, in order.
func (s *deltaStream) changed(next *groupState) []*discoveryv3.DeltaDiscoveryResponse {
	s.state = next
	var out []*discoveryv3.DeltaDiscoveryResponse
	for idx, sub := range s.subs {
		if st := next.types[idx]; sub != nil && sub.waiting && st != nil {
			if r := s.respond(sub, st, false); r != nil {
				out = append(out, r)
			}
		}
	}
	return out
}

// respond compares the stream's record with st and returns the response,
// if there is a difference (or always); the stream's record becomes st.
func (s *deltaStream) respond(sub *deltaSub, st *typeSnap, always bool) *discoveryv3.DeltaDiscoveryResponse {
	var (
		resources []*discoveryv3.Resource
		removed   []string
	)
	whole := sub.takesWhole(st)
	if !whole {
		resources, removed = sub.diff(st)
	}
	if !whole && len(resources) == 0 && len(removed) == 0 && !always {
		if sub.own == nil || sub.ownIsView() {
			sub.base, sub.fresh, sub.own = st, nil, nil // the same record
		}
		return nil
	}
	sub.base, sub.fresh, sub.own, sub.waiting = st, nil, nil, false
	s.nonce++
	r := &discoveryv3.DeltaDiscoveryResponse{
		Resources: resources, RemovedResources: removed, TypeUrl: st.typeURL,
		SystemVersionInfo: st.version, Nonce: strconv.FormatInt(s.nonce, 10),
	}
	if whole || len(resources) > 0 && len(resources) == len(st.resources) {
		// The whole type, in name order as deltaBody: its shared bytes
		// go out as they are (codec.go).
		r.Resources = nil
		r.ProtoReflect().SetUnknown(st.deltaBody)
	}
	return r
}

// takesWhole reports whether the stream holds nothing of the type and
// subscribes to every resource of st: then diff would list them all, one by
// one (a slice per stream of a thousand routes in a reconnect storm), and
// the response is the whole type's shared bytes.
func (sub *deltaSub) takesWhole(st *typeSnap) bool {
	if sub.own != nil || sub.base != nil || len(st.sorted) == 0 {
		return false
	}
	if sub.wildcard {
		return true
	}
	if sub.names.len() < len(st.sorted) {
		return false
	}
	for _, name := range st.sorted {
		if !sub.names.has(name) {
			return false
		}
	}
	return true
}

// ownIsView reports, when nothing differs from the type's state, whether
// the stream's own record says no more than that state does: every name in
// it is subscribed to. Then the record is the state's, and the map can go.
// This is the common case of a proxy reconnecting at the current versions:
// Envoy's first request on a new stream lists every version it holds
// (DeltaSubscriptionState::getNextRequestAckless, source/extensions/
// config_subscription/grpc/delta_subscription_state.cc), which is the
// group's.
func (sub *deltaSub) ownIsView() bool {
	for name := range sub.own {
		if !sub.covers(name) {
			return false
		}
	}
	return true
}

// covers reports whether the stream subscribes to a name.
func (sub *deltaSub) covers(name string) bool { return sub.wildcard || sub.names.has(name) }

// held returns the version of a resource the stream holds.
func (sub *deltaSub) held(name string) (string, bool) {
	if sub.own != nil {
		v, ok := sub.own[name]
		return v, ok
	}
	if !sub.covers(name) || slices.Contains(sub.fresh, name) {
		return "", false
	}
	if r := sub.base.get(name); r != nil {
		return r.GetVersion(), true
	}
	return "", false
}

// diff returns what st holds that the stream does not, and what the stream
// holds that st does not, as createDeltaResponse.
func (sub *deltaSub) diff(st *typeSnap) (resources []*discoveryv3.Resource, removed []string) {
	var names []string
	switch {
	case sub.own == nil && sub.base == st:
		names = slices.Clone(sub.fresh)
	case sub.own == nil && sub.base != nil && st.prev.Load() == sub.base:
		names = append(slices.Clone(st.changed), sub.fresh...)
	default:
		return sub.fullDiff(st)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if !sub.covers(name) {
			continue
		}
		v, ok := sub.held(name)
		if r := st.get(name); r != nil {
			if !ok || v != r.GetVersion() {
				resources = append(resources, r)
			}
		} else if ok {
			removed = append(removed, name)
		}
	}
	return resources, removed
}

// fullDiff is diff comparing every name: st's in its order, then those the
// stream holds that st does not.
func (sub *deltaSub) fullDiff(st *typeSnap) (resources []*discoveryv3.Resource, removed []string) {
	found := 0 // names of st the stream holds and subscribes to
	for _, name := range st.sorted {
		if !sub.covers(name) {
			continue
		}
		r := st.resources[name]
		v, ok := sub.held(name)
		if ok {
			found++
		}
		if !ok || v != r.GetVersion() {
			resources = append(resources, r)
		}
	}
	if sub.own != nil && found == len(sub.own) {
		// Every name the stream holds is one of st's, subscribed to: none
		// is gone (a resumed stream, mostly, holding exactly st).
		return resources, nil
	}
	gone := func(name string) {
		if _, ok := sub.held(name); ok && sub.covers(name) && !st.has(name) {
			removed = append(removed, name)
		}
	}
	switch {
	case sub.own != nil:
		for name := range sub.own {
			gone(name)
		}
	case sub.base != nil:
		for name := range sub.base.resources {
			gone(name)
		}
	}
	slices.Sort(removed)
	return resources, removed
}

// update applies a request's subscription changes, as go-control-plane's
// Subscription.UpdateResourceSubscriptions (pkg/server/stream/v3).
func (sub *deltaSub) update(subscribe, unsubscribe []string, in *interner) {
	if sub.legacy {
		if len(subscribe) == 0 {
			return
		}
		sub.legacy = false
	}
	if sub.own == nil && sub.needsOwn(subscribe, unsubscribe) {
		sub.own = sub.record()
		sub.base, sub.fresh = nil, nil
	}
	// The new names are worked out as a list and interned: a stream
	// subscribing to what others of its group did builds no set.
	added := sub.added(subscribe)
	var removed map[string]bool
	for _, n := range unsubscribe {
		if n == wildcardName {
			sub.wildcard = false
			continue
		}
		subscribed := sub.names.has(n) || slices.Contains(added, n)
		if sub.own != nil {
			if subscribed && sub.wildcard {
				sub.own[n] = "" // sent again if asked for again
			} else {
				delete(sub.own, n)
			}
		}
		sub.fresh = slices.DeleteFunc(sub.fresh, func(f string) bool { return f == n })
		if subscribed {
			if removed == nil {
				removed = map[string]bool{}
			}
			removed[n] = true
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	if sub.names.len() == 0 && len(removed) == 0 {
		sub.names = in.of(added) // a first subscription: the added names are all
		return
	}
	names := make([]string, 0, sub.names.len()+len(added))
	for n := range sub.names.names {
		if !removed[n] {
			names = append(names, n)
		}
	}
	for _, n := range added {
		if !removed[n] {
			names = append(names, n)
		}
	}
	sub.names = in.of(names)
}

// added returns the names of subscribe the stream did not subscribe to,
// setting the wildcard if "*" is one, and notes in fresh those base holds
// that the stream was not sent. A first subscription without "*" adds
// every name: that is subscribe itself, which is only read (interning
// copies what it keeps), not a copy per stream of a thousand names.
func (sub *deltaSub) added(subscribe []string) []string {
	all := sub.names.len() == 0 && !slices.Contains(subscribe, wildcardName)
	var added []string
	if all {
		added = subscribe
	}
	for _, n := range subscribe {
		switch {
		case n == wildcardName:
			sub.wildcard = true
		case !sub.names.has(n):
			if sub.own == nil && !sub.wildcard && sub.base.has(n) {
				sub.fresh = append(sub.fresh, n) // base holds it; the stream was not sent it
			}
			if !all {
				added = append(added, n)
			}
		}
	}
	return added
}

// needsOwn reports whether a change would make the stream's record differ
// from what base and the names say: a wildcard gained or dropped, or a
// name unsubscribed while the wildcard holds it.
func (sub *deltaSub) needsOwn(subscribe, unsubscribe []string) bool {
	if !sub.wildcard && slices.Contains(subscribe, wildcardName) {
		return true
	}
	return sub.wildcard && len(unsubscribe) > 0
}

// record is the stream's record as a map of its own.
func (sub *deltaSub) record() map[string]string {
	out := map[string]string{}
	if sub.base == nil {
		return out
	}
	for name := range sub.base.resources {
		if v, ok := sub.held(name); ok {
			out[name] = v
		}
	}
	return out
}
