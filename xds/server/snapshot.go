package server

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/trustgate/trustgate/xds/sendlimit"
	"github.com/trustgate/trustgate/xds/server/refs"
	"github.com/trustgate/trustgate/xds/translate"
)

// ErrInconsistent is returned (wrapped) when resources reference resources
// that are missing, or carry resources nothing references.
var ErrInconsistent = errors.New("inconsistent resources")

// servedTypes are the type URLs a snapshot always holds, even when empty:
// a type without a version would never answer Envoy's first (version "")
// request, and Envoy waits for the LDS and CDS answers to finish starting.
var servedTypes = []string{
	resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType, resource.SecretType,
}

// snapshot is what one proxy group is served: every resource marshalled once,
// versioned per type by content.
type snapshot struct {
	// served holds every type's marshalled resources and version, by
	// response type (store.go makes each group's typeSnaps of them).
	served *cache.Snapshot
	// versions maps type URL to version; names maps type URL to the sorted
	// resource names.
	versions map[string]string
	names    map[string][]string
	// resources is what Compile returned, kept for the certificate metrics.
	resources *translate.Resources
}

// buildSnapshot checks r, one group's resources, and turns it into a
// snapshot. It fails, changing nothing, when names are empty or duplicated,
// when the RDS, EDS and SDS names do not match the listeners' and clusters'
// references exactly (checkRefs), or when the resources of a type do not
// fit in one response (sendlimit: gRPC would fail the send with
// ResourceExhausted and end the stream). enc keeps each group's last good
// snapshot (lastGood) and what each resource's marshal and references were;
// nil works everything out afresh.
func buildSnapshot(group string, r *translate.Resources, enc *encodings) (*snapshot, error) {
	if r == nil {
		return nil, errors.New("the configuration compiled to no resources (Compile returned nil)")
	}
	byType := map[string][]types.Resource{
		resource.ListenerType: asResources(r.Listeners),
		resource.RouteType:    asResources(r.Routes),
		resource.ClusterType:  asResources(r.Clusters),
		resource.EndpointType: asResources(r.Endpoints),
		resource.SecretType:   asResources(r.Secrets),
	}
	good := enc.lastGood(group)
	same := make(map[string]bool, len(servedTypes))
	all := true
	for i, typeURL := range servedTypes {
		same[typeURL] = good.last(i).sameList(byType[typeURL])
		all = all && same[typeURL]
	}
	// With every type the very list of messages of the group's last good
	// snapshot (all), the checks, functions of the messages alone, passed.
	if !all {
		if err := checkNames(byType); err != nil {
			return nil, err
		}
	}
	want, err := references(r, good, same[resource.ListenerType] && same[resource.ClusterType], enc.memo())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInconsistent, err)
	}
	if !all {
		if err := checkRefs(r, want); err != nil {
			return nil, err
		}
	}
	s := &snapshot{
		served:   &cache.Snapshot{},
		versions: map[string]string{}, names: map[string][]string{}, resources: r,
	}
	var over []error
	made := make([]*marshalled, len(servedTypes))
	for i, typeURL := range servedTypes {
		m, err := marshalType(typeURL, byType[typeURL], good.last(i), enc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", typeURL, err)
		}
		if m.over != nil {
			over = append(over, m.over)
		}
		s.served.Resources[cache.GetResponseType(typeURL)] = m.res
		s.versions[typeURL], s.names[typeURL] = m.res.Version, m.sorted
		made[i] = m
	}
	if err := errors.Join(over...); err != nil {
		return nil, err
	}
	enc.keepGood(group, &lastGood{types: made, refs: want})
	return s, nil
}

// wireItems are the names and serialised sizes of marshalled resources.
func wireItems(rs []types.Resource) []sendlimit.Item {
	out := make([]sendlimit.Item, 0, len(rs))
	for _, r := range rs {
		w := r.(wireResource)
		out = append(out, sendlimit.Item{Name: w.name, Bytes: len(w.ProtoReflect().GetUnknown())})
	}
	return out
}

// sameVersions reports whether two snapshots serve identical content.
func (s *snapshot) sameVersions(o *snapshot) bool {
	if s == nil || o == nil {
		return s == o
	}
	for _, t := range servedTypes {
		if s.versions[t] != o.versions[t] {
			return false
		}
	}
	return true
}

func asResources[M types.Resource](ms []M) []types.Resource {
	out := make([]types.Resource, 0, len(ms))
	for _, m := range ms {
		out = append(out, m)
	}
	return out
}

// checkNames rejects empty and duplicate names: the cache indexes resources
// by name, so a duplicate would silently replace its twin.
func checkNames(byType map[string][]types.Resource) error {
	var errs []error
	for _, typeURL := range servedTypes {
		seen := make(map[string]bool, len(byType[typeURL])) // grown entry by entry, rehashed about 14 times at 10,000
		for _, r := range byType[typeURL] {
			name := cache.GetResourceName(r)
			switch {
			case name == "":
				errs = append(errs, fmt.Errorf("%s: a resource has no name", shortType(typeURL)))
			case seen[name]:
				errs = append(errs, fmt.Errorf("%s %q: defined twice", shortType(typeURL), name))
			}
			seen[name] = true
		}
	}
	return errors.Join(errs...)
}

// references are the references of r's listeners and clusters: those of
// the group's last good snapshot when its listeners and clusters are the
// very messages of that snapshot's (unchanged; references are a function of
// the messages alone, and their memo entries are kept), else collected
// through the memo, which walks only messages it has not seen.
func references(r *translate.Resources, good *lastGood, unchanged bool, memo *refs.Memo) (refs.Refs, error) {
	if unchanged {
		memo.Keep(r.Listeners, r.Clusters)
		return good.refs, nil
	}
	return memo.Collect(r.Listeners, r.Clusters)
}

// checkRefs requires the route configurations, endpoint assignments and
// secrets to be exactly those the listeners and clusters reference over
// ADS (want). A missing one keeps a listener or cluster warming until
// initial_fetch_timeout (for a secret, Envoy then resets every TLS
// connection on it); an unreferenced one is sent for nothing (for a secret,
// a private key sent to a proxy that has no use for it). go-control-plane's
// Snapshot.Consistent checks the first two the same way but walks every
// resource on every reload; the references come from the memo
// (references).
func checkRefs(r *translate.Resources, want refs.Refs) error {
	return errors.Join(
		sameNames("route configuration", want.Routes, namesOf(r.Routes)),
		sameNames("endpoint assignment", want.Endpoints, namesOf(r.Endpoints)),
		sameNames("secret", want.Secrets, namesOf(r.Secrets)),
	)
}

// namesOf returns the resources' names, sorted.
func namesOf[M types.Resource](ms []M) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, cache.GetResourceName(m))
	}
	slices.Sort(out)
	return out
}

// sameNames reports every name of want missing from have and every name of
// have missing from want (both sorted).
func sameNames(kind string, want, have []string) error {
	var errs []error
	for _, n := range want {
		if _, found := slices.BinarySearch(have, n); !found {
			errs = append(errs, fmt.Errorf("%w: %s %q is referenced but not defined", ErrInconsistent, kind, n))
		}
	}
	for _, n := range have {
		if _, found := slices.BinarySearch(want, n); !found {
			errs = append(errs, fmt.Errorf("%w: %s %q is defined but nothing references it", ErrInconsistent, kind, n))
		}
	}
	return errors.Join(errs...)
}

// fieldHash is a SHA-256 of length-prefixed fields, so that ("ab","c") and
// ("a","bc") hash differently: each field is its length (8 bytes, big
// endian) then its bytes. The prefix and a string field go through one
// reused buffer: a conversion to []byte per name, and the prefix array
// escaping into the hash's Write, were two allocations for each of 10,000
// resources on every reload.
type fieldHash struct {
	h       hash.Hash
	scratch []byte
}

func newFieldHash() *fieldHash { return &fieldHash{h: sha256.New()} }

func (f *fieldHash) string(s string) {
	f.scratch = append(binary.BigEndian.AppendUint64(f.scratch[:0], uint64(len(s))), s...)
	_, _ = f.h.Write(f.scratch) // hash.Hash.Write never returns an error
}

func (f *fieldHash) bytes(b []byte) {
	f.scratch = binary.BigEndian.AppendUint64(f.scratch[:0], uint64(len(b)))
	_, _ = f.h.Write(f.scratch) // hash.Hash.Write never returns an error
	_, _ = f.h.Write(b)
}

// wireResource is a resource already marshalled, carried as the unknown
// fields of an empty message so that go-control-plane's Snapshot (whose
// Consistent check the snapshot keeps) holds it; the caches (store.go) take
// the bytes as they are. They are exactly the deterministic marshal of the
// original resource, so the delta versions (SHA-256 of the marshal, as
// go-control-plane's) are unchanged.
type wireResource struct {
	*emptypb.Empty
	name string
}

func newWireResource(name string, b []byte) wireResource {
	e := &emptypb.Empty{}
	e.ProtoReflect().SetUnknown(b)
	return wireResource{Empty: e, name: name}
}

// GetName lets the cache index the resource (cache.GetResourceName).
func (w wireResource) GetName() string { return w.name }

var _ types.ResourceWithName = wireResource{}
