package sendlimit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/translate"
)

// MaxResponseBytes is the most the server sends in one response (gRPC's
// MaxSendMsgSize): configurations of 50k routes make responses of 21 MB
// (envoy#36169). gRPC fails a larger send with ResourceExhausted, which ends
// the stream.
const MaxResponseBytes = 64 << 20

// Envelope bounds, in bytes, of what a response carries besides its
// resources: a version (a SHA-256 in hex), a nonce (a decimal counter), and,
// in a delta response, the names of resources removed since the last one,
// which a check of this configuration cannot know. envelopeAllowance is
// kept free of resources for them.
const (
	maxVersion        = 64
	maxNonce          = 20
	envelopeAllowance = 1 << 20
)

// Limit is what the resources of one response may take.
const Limit = MaxResponseBytes - envelopeAllowance

// Item is one resource: its name and the size of its serialised form.
type Item struct {
	Name  string
	Bytes int
}

// ResponseBytes bounds the size of the largest response of a type that
// carries these resources: every one at once, as the first response of a
// stream does, as a SotW response (an Any each) or a delta one (a Resource
// each, with its name and version), whichever is larger, without the
// removed names and with the longest version and nonce. It is exact but for
// empty names and resources, which protobuf leaves out and which it counts.
func ResponseBytes(typeURL string, items []Item) int {
	envelope := field(1, maxVersion) + field(4, len(typeURL)) + field(5, maxNonce)
	sotw, delta := envelope, envelope
	for _, it := range items {
		anyBytes := field(1, len(typeURL)) + field(2, it.Bytes)
		sotw += field(2, anyBytes)
		delta += field(2, field(3, len(it.Name))+field(1, maxVersion)+field(2, anyBytes))
	}
	return max(sotw, delta)
}

// field is the size of a length-delimited field of n bytes.
func field(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

// Oversize is a resource type whose resources do not fit in one response.
type Oversize struct {
	TypeURL string
	// Bytes is ResponseBytes of the type.
	Bytes int
	// Items are the type's resources, largest first.
	Items []Item
}

// Error says what does not fit, naming the largest resources.
func (o *Oversize) Error() string { return o.Message(nil) }

// Alone reports whether the largest resource does not fit even alone.
func (o *Oversize) Alone() bool { return ResponseBytes(o.TypeURL, o.Items[:1]) > Limit }

// Message is Error with each named resource followed by where it comes
// from, when origin (nil: none) knows.
func (o *Oversize) Message(origin func(name string) string) string {
	largest := o.Items[0]
	if o.Alone() {
		return fmt.Sprintf("%s %q is %s: one resource must fit in one response, and the server sends at most %s (%s kept for the envelope)",
			short(o.TypeURL), largest.Name, MB(largest.Bytes), mib(MaxResponseBytes), mib(envelopeAllowance))
	}
	names := make([]string, 0, 3)
	for _, it := range o.Items[:min(3, len(o.Items))] {
		from := ""
		if origin != nil {
			if o := origin(it.Name); o != "" {
				from = ", from " + o
			}
		}
		names = append(names, fmt.Sprintf("%q (%s%s)", it.Name, MB(it.Bytes), from))
	}
	return fmt.Sprintf("the %d %s resources take %s in one response, over the %s the server sends (%s kept for the envelope); the largest: %s",
		len(o.Items), short(o.TypeURL), MB(o.Bytes), mib(MaxResponseBytes), mib(envelopeAllowance), strings.Join(names, ", "))
}

// CheckType returns the type's Oversize, or nil when its resources fit.
func CheckType(typeURL string, items []Item) *Oversize {
	n := ResponseBytes(typeURL, items)
	if n <= Limit {
		return nil
	}
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b Item) int { return cmp.Compare(b.Bytes, a.Bytes) })
	return &Oversize{TypeURL: typeURL, Bytes: n, Items: sorted}
}

// Check returns the types of r whose resources do not fit in one response,
// in the order listeners, routes, clusters, endpoints, secrets.
func Check(r *translate.Resources) []*Oversize { return CheckWith(r, nil) }

// CheckWith is Check taking each resource's size from s (nil: none).
func CheckWith(r *translate.Resources, s *Sizes) []*Oversize {
	var out []*Oversize
	for _, t := range []struct {
		typeURL string
		items   []Item
	}{
		{resource.ListenerType, items(r.Listeners, s)},
		{resource.RouteType, items(r.Routes, s)},
		{resource.ClusterType, items(r.Clusters, s)},
		{resource.EndpointType, endpointItems(r, s)},
		{resource.SecretType, items(r.Secrets, s)},
	} {
		if o := CheckType(t.typeURL, t.items); o != nil {
			out = append(out, o)
		}
	}
	return out
}

func items[M interface {
	proto.Message
	GetName() string
}](ms []M, s *Sizes) []Item {
	out := make([]Item, 0, len(ms))
	for _, m := range ms {
		out = append(out, Item{Name: m.GetName(), Bytes: s.size(m)})
	}
	return out
}

func endpointItems(r *translate.Resources, s *Sizes) []Item {
	out := make([]Item, 0, len(r.Endpoints))
	for _, e := range r.Endpoints {
		out = append(out, Item{Name: e.GetClusterName(), Bytes: s.size(e)})
	}
	return out
}

// short names a type URL in messages.
func short(typeURL string) string {
	switch typeURL {
	case resource.ListenerType:
		return "listener"
	case resource.RouteType:
		return "route configuration"
	case resource.ClusterType:
		return "cluster"
	case resource.EndpointType:
		return "endpoint"
	case resource.SecretType:
		return "secret"
	}
	return typeURL
}

// MB renders a size in megabytes (10^6 bytes), as file sizes are shown.
func MB(n int) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// mib renders a limit in MiB, as it is set.
func mib(n int) string { return fmt.Sprintf("%d MiB", n>>20) }
