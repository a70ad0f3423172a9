package envoytest

import (
	"context"
	"fmt"
	"maps"
	"slices"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// delta is one incremental ADS stream.
type delta struct {
	c        *Client
	s        discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	id       int
	nodeSent bool
	asked    map[string]bool // types asked for on this stream
}

func newDelta(ctx context.Context, c *Client, id int) (protocol, error) {
	s, err := c.ads.DeltaAggregatedResources(ctx)
	if err != nil {
		return nil, err
	}
	return &delta{c: c, s: s, id: id, asked: map[string]bool{}}, nil
}

func (p *delta) send(req *discoveryv3.DeltaDiscoveryRequest) error {
	if !p.nodeSent {
		req.Node, p.nodeSent = p.c.node(), true
	}
	p.asked[req.GetTypeUrl()] = true
	p.c.mu.Lock()
	p.c.everAsked[req.GetTypeUrl()] = true
	p.c.mu.Unlock()
	return p.s.Send(req)
}

// subscribe is a type's first request on this stream. Listeners and
// clusters are asked for with no names (wildcard); a resuming client lists
// the versions it holds so that nothing it has is sent again.
func (p *delta) subscribe(typeURL string) error {
	p.c.mu.Lock()
	req := &discoveryv3.DeltaDiscoveryRequest{
		TypeUrl:                 typeURL,
		InitialResourceVersions: maps.Clone(p.c.st.resVers[typeURL]),
	}
	if !wildcardTypes[typeURL] {
		req.ResourceNamesSubscribe = slices.Clone(p.c.st.subscribed[typeURL])
	}
	p.c.mu.Unlock()
	return p.send(req)
}

// ask implements protocol.
func (p *delta) ask(typeURL string) error { return p.subscribe(typeURL) }

func (p *delta) step() error {
	resp, err := p.s.Recv()
	if err != nil {
		return err
	}
	typeURL := resp.GetTypeUrl()
	r := Response{
		Stream: p.id, TypeURL: typeURL, Version: resp.GetSystemVersionInfo(), Nonce: resp.GetNonce(),
		Removed: resp.GetRemovedResources(), isDelta: true,
	}
	type item struct {
		version string
		m       proto.Message
	}
	decoded := map[string]item{}
	var decodeErr error
	for _, res := range resp.GetResources() {
		m, err := res.GetResource().UnmarshalNew()
		if err != nil {
			decodeErr = fmt.Errorf("decoding %s: %w", res.GetName(), err)
			break
		}
		r.Names = append(r.Names, res.GetName())
		r.Resources = append(r.Resources, m)
		decoded[res.GetName()] = item{res.GetVersion(), m}
	}
	nack := p.c.judge(r, decodeErr)

	p.c.mu.Lock()
	if nack != nil {
		r.NACK = nack.Error()
	} else {
		for name, it := range decoded {
			p.c.st.put(typeURL, name, it.version, it.m)
		}
		for _, name := range resp.GetRemovedResources() {
			p.c.st.remove(typeURL, name)
		}
		p.c.st.versions[typeURL] = resp.GetSystemVersionInfo()
	}
	p.c.record(r)
	p.c.mu.Unlock()

	ack := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: resp.GetNonce()}
	if nack != nil {
		ack.ErrorDetail = &status.Status{Code: int32(codes.InvalidArgument), Message: nack.Error()}
	}
	if err := p.send(ack); err != nil {
		return err
	}
	return p.follow()
}

// follow subscribes to what the accepted resources now reference and
// unsubscribes from what they no longer do, and asks for listeners once the
// clusters are warm.
func (p *delta) follow() error {
	p.c.mu.Lock()
	changed, askLDS, err := p.c.subscriptionChanges(p.asked)
	reqs := make([]*discoveryv3.DeltaDiscoveryRequest, 0, len(changed))
	for _, t := range []string{EndpointType, SecretType, RouteType} {
		old, ok := changed[t]
		if !ok {
			continue
		}
		added, removed := diff(old, p.c.st.subscribed[t])
		if !p.asked[t] {
			added = p.c.st.subscribed[t] // first request of the type on this stream
		}
		reqs = append(reqs, &discoveryv3.DeltaDiscoveryRequest{
			TypeUrl: t, ResourceNamesSubscribe: added, ResourceNamesUnsubscribe: removed,
		})
	}
	p.c.mu.Unlock()
	if err != nil {
		return err
	}
	for _, req := range reqs {
		if err := p.send(req); err != nil {
			return err
		}
	}
	if askLDS {
		return p.subscribe(ListenerType)
	}
	return nil
}
