package server

import (
	"context"
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/log"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/xds/server/labels"
)

// groupHash maps a node to its proxy group: the canonical key of its labels.
// The snapshot caches are keyed by it, so proxies with equal labels share one
// snapshot.
type groupHash struct{}

// ID implements cache.NodeHash.
func (groupHash) ID(n *corev3.Node) string { return labelset.Key(labels.FromNode(n)) }

// caches are the three caches behind the ADS server.
//
// Secrets are served by a cache in non-ADS mode. In ADS mode a SnapshotCache
// withholds a response until the request names every resource of that type
// in the snapshot (go-control-plane v0.14, pkg/cache/v3/simple.go, respond:
// "ADS mode: not responding to request", when superset fails). That works for RDS and EDS, whose names
// all arrive at once from LDS and CDS, but not for SDS: Envoy asks for the
// clusters' secrets while the clusters warm, and asks for LDS — and so for
// the listeners' secrets — only once the clusters are warm (envoy#11120). A
// snapshot with both kinds would leave Envoy waiting for initial_fetch_timeout.
// In non-ADS mode the cache answers each request with the secrets it names.
//
// The other types are served by sotwCache and deltaCache (sotwcache.go,
// deltacache.go), which keep the SnapshotCache's rules in ADS mode but share
// each type's responses between the proxies of a group and keep the
// per-proxy work off the reload path.
type caches struct {
	secrets cache.SnapshotCache
	sotw    *sotwCache
	delta   *deltaCache
	mux     *cache.MuxCache
}

func newCaches(logger log.Logger) *caches {
	c := &caches{
		secrets: cache.NewSnapshotCache(false, groupHash{}, logger),
		sotw:    newSotwCache(groupHash{}),
		delta:   newDeltaCache(groupHash{}),
	}
	classify := func(typeURL, other string) string {
		if typeURL == resource.SecretType {
			return "secrets"
		}
		return other
	}
	c.mux = &cache.MuxCache{
		Classify:      func(r *cache.Request) string { return classify(r.GetTypeUrl(), "sotw") },
		ClassifyDelta: func(r *cache.DeltaRequest) string { return classify(r.GetTypeUrl(), "delta") },
		Caches:        map[string]cache.Cache{"secrets": c.secrets, "sotw": c.sotw, "delta": c.delta},
	}
	return c
}

// clear forgets a group: go-control-plane keeps a snapshot and a status
// (watches, last request time) per node hash until ClearSnapshot.
func (c *caches) clear(group string) {
	c.secrets.ClearSnapshot(group)
	c.sotw.clear(group)
	c.delta.clear(group)
}

// set installs a group's snapshot: the secrets first, then the rest, which
// the caches push in ADS order (CDS, EDS, LDS, RDS), so that a reload
// rotating a certificate and changing a listener sends the certificate first.
func (c *caches) set(ctx context.Context, group string, s *snapshot) error {
	if err := c.secrets.SetSnapshot(ctx, group, s.secrets); err != nil {
		return fmt.Errorf("setting secrets of group %q: %w", group, err)
	}
	if err := errors.Join(c.sotw.set(group, s.main), c.delta.set(group, s.main)); err != nil {
		return fmt.Errorf("setting snapshot of group %q: %w", group, err)
	}
	return nil
}
