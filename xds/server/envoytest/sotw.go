package envoytest

import (
	"context"
	"fmt"
	"slices"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// sotw is one state-of-the-world ADS stream.
type sotw struct {
	c        *Client
	s        discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	id       int
	nodeSent bool
	nonce    map[string]string // last nonce received per type on this stream
	asked    map[string]bool   // types asked for on this stream
}

func newSotw(ctx context.Context, c *Client, id int) (protocol, error) {
	s, err := c.ads.StreamAggregatedResources(ctx)
	if err != nil {
		return nil, err
	}
	return &sotw{c: c, s: s, id: id, nonce: map[string]string{}, asked: map[string]bool{}}, nil
}

// request builds the request for a type from the client's state: the
// version accepted, the names subscribed (named types) and the nonce of the
// last response of this type on this stream.
func (p *sotw) request(typeURL string, nack error) *discoveryv3.DiscoveryRequest {
	p.c.mu.Lock()
	req := &discoveryv3.DiscoveryRequest{
		TypeUrl:       typeURL,
		VersionInfo:   p.c.st.versions[typeURL],
		ResponseNonce: p.nonce[typeURL],
	}
	if !wildcardTypes[typeURL] {
		req.ResourceNames = slices.Clone(p.c.st.subscribed[typeURL])
	}
	p.c.everAsked[typeURL] = true
	p.c.mu.Unlock()
	if !p.nodeSent {
		// set_node_on_first_message_only, as the generated bootstrap says.
		req.Node, p.nodeSent = p.c.node(), true
	}
	if nack != nil {
		req.ErrorDetail = &status.Status{Code: int32(codes.InvalidArgument), Message: nack.Error()}
	}
	p.asked[typeURL] = true
	return req
}

func (p *sotw) send(typeURL string, nack error) error {
	return p.s.Send(p.request(typeURL, nack))
}

// ask implements protocol: a type's first request on the stream carries the
// version the client holds.
func (p *sotw) ask(typeURL string) error { return p.send(typeURL, nil) }

func (p *sotw) step() error {
	resp, err := p.s.Recv()
	if err != nil {
		return err
	}
	typeURL := resp.GetTypeUrl()
	r := Response{Stream: p.id, TypeURL: typeURL, Version: resp.GetVersionInfo(), Nonce: resp.GetNonce()}
	decoded := map[string]proto.Message{}
	var decodeErr error
	for _, a := range resp.GetResources() {
		m, err := a.UnmarshalNew()
		if err != nil {
			decodeErr = fmt.Errorf("decoding %s: %w", a.GetTypeUrl(), err)
			break
		}
		name := nameOf(m)
		r.Names = append(r.Names, name)
		r.Resources = append(r.Resources, m)
		decoded[name] = m
	}
	nack := p.c.judge(r, decodeErr)

	p.c.mu.Lock()
	p.nonce[typeURL] = resp.GetNonce()
	if nack != nil {
		r.NACK = nack.Error()
	} else {
		p.apply(typeURL, resp.GetVersionInfo(), decoded)
	}
	p.c.record(r)
	p.c.mu.Unlock()

	if err := p.send(typeURL, nack); err != nil {
		return err
	}
	return p.follow()
}

// apply installs an accepted response; c.mu must be held. Listeners and
// clusters come as the full set; other types carry the names asked for.
func (p *sotw) apply(typeURL, version string, decoded map[string]proto.Message) {
	st := p.c.st
	if wildcardTypes[typeURL] {
		st.resources[typeURL] = map[string]proto.Message{}
	}
	for name, m := range decoded {
		st.put(typeURL, name, "", m)
	}
	st.versions[typeURL] = version
}

// follow asks for what the accepted resources reference, and for listeners
// once the clusters are warm.
func (p *sotw) follow() error {
	p.c.mu.Lock()
	changed, askLDS, err := p.c.subscriptionChanges(p.asked)
	p.c.mu.Unlock()
	if err != nil {
		return err
	}
	for _, t := range []string{EndpointType, SecretType, RouteType} {
		if _, ok := changed[t]; ok {
			if err := p.send(t, nil); err != nil {
				return err
			}
		}
	}
	if askLDS {
		return p.send(ListenerType, nil)
	}
	return nil
}
