package server

import (
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/xds/server/labels"
)

// resumingCache lets a SotW proxy that reconnects, to this replica or to
// another, keep what it has. go-control-plane v0.14 starts every new stream
// with an empty record of what the client holds, so a client presenting the
// current version_info would be sent everything again. Versions here are
// content hashes, equal on every replica, so a client's version_info vouches
// for what it holds:
//   - listeners, clusters, routes and endpoints come from a cache in ADS
//     mode, which only ever answers with every resource of the type, so a
//     client at the current version holds all of them;
//   - secrets come from a non-ADS cache that answers with just the names
//     asked for, so a client at the current version may hold only some;
//     only the secrets this replica saw it ACK at that version are trusted,
//     and the rest are sent again (harmless: Envoy compares their content).
//
// Delta needs none of this: the client sends initial_resource_versions.
type resumingCache struct {
	cache.Cache
	groups  *groups
	proxies *proxies
}

// CreateWatch implements cache.ConfigWatcher. A wildcard request is
// answered with the whole type (see wholeType).
func (c resumingCache) CreateWatch(req *cache.Request, sub cache.Subscription, ch chan cache.Response) (func(), error) {
	req = wholeType(req, sub)
	if known := c.held(req, sub); known != nil {
		sub = resumed{Subscription: sub, known: known}
	}
	return c.Cache.CreateWatch(req, sub, ch)
}

// held returns what a client starting a new stream holds, by name, or nil
// when this is not such a request or its version is not the current one.
func (c resumingCache) held(req *cache.Request, sub cache.Subscription) map[string]string {
	// A response nonce means this stream already answered the type; the
	// cache knows what it sent.
	if req.GetResponseNonce() != "" || req.GetVersionInfo() == "" || len(sub.ReturnedResources()) > 0 {
		return nil
	}
	typeURL, version := req.GetTypeUrl(), req.GetVersionInfo()
	group := labelset.Key(labels.FromNode(req.GetNode()))
	s := c.groups.current(group)
	if s == nil || s.versions[typeURL] != version {
		return nil
	}
	holds := func(string) bool { return true }
	switch {
	case typeURL == resource.SecretType:
		acked := c.proxies.ackedSecretNames(req.GetNode().GetId(), group, version)
		holds = func(n string) bool { return acked[n] }
	case !sub.IsWildcard():
		holds = func(n string) bool { _, ok := sub.SubscribedResources()[n]; return ok }
	}
	known := map[string]string{}
	for _, n := range s.names[typeURL] {
		if holds(n) {
			known[n] = version
		}
	}
	return known
}

// resumed is a subscription that reports what the client already holds.
type resumed struct {
	cache.Subscription
	known map[string]string
}

// ReturnedResources implements cache.Subscription.
func (r resumed) ReturnedResources() map[string]string { return r.known }
