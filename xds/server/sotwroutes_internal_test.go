package server

import (
	"slices"
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
)

// routesAt is a snapshot at version rev whose route configurations have
// the given contents (name -> content), and whose other types are empty.
func routesAt(rev string, routes map[string]string) *snapshot {
	return typedSnapshot(rev, func(typeURL string) map[string]string {
		if typeURL == resource.RouteType {
			return routes
		}
		return nil
	})
}

// routeNames returns the route configurations a response carries, sorted.
func routeNames(t *testing.T, o *sotwOut) []string {
	t.Helper()
	var out []string
	for _, a := range wire(t, o.resp).GetResources() {
		out = append(out, string(a.GetValue()))
	}
	slices.Sort(out)
	return out
}

// TestSotwRouteChangeSendsChangedRoutes: a SotW stream that holds every
// route configuration of the previous version, and runs it, is sent only
// those that changed; any other stream is sent them all.
func TestSotwRouteChangeSendsChangedRoutes(t *testing.T) {
	v1 := map[string]string{"a": "a1", "b": "b1", "c": "c1"}
	v2 := map[string]string{"a": "a1", "b": "b2", "c": "c1"}
	v3 := map[string]string{"a": "a1", "b": "b2", "c": "c3"}
	all := func(m map[string]string) []string {
		var out []string
		for _, c := range m {
			out = append(out, c)
		}
		slices.Sort(out)
		return out
	}
	c := newCaches()
	install(t, c, routesAt("v1", v1))
	// ack answers a response as Envoy does, and returns what it answers.
	ack := func(s *sotwStream, o *sotwOut) *sotwOut {
		t.Helper()
		if o == nil {
			t.Fatal("no response")
		}
		if r := s.request(sotwRequest(resource.RouteType, o.resp.GetVersionInfo(), o.resp.GetNonce(), "a", "b", "c")); r != nil {
			t.Fatalf("an ACK was answered with %v", routeNames(t, r))
		}
		return o
	}
	one := func(outs []*sotwOut) *sotwOut {
		t.Helper()
		if len(outs) != 1 {
			t.Fatalf("%d responses, want 1", len(outs))
		}
		return outs[0]
	}

	current := newSotwStream(c.entry(testKey), noAcked)
	if got := routeNames(t, ack(current, current.request(routeRequest("", "a", "b", "c")))); !slices.Equal(got, all(v1)) {
		t.Fatalf("first response: %v, want %v", got, all(v1))
	}
	lagging := newSotwStream(c.entry(testKey), noAcked)
	first := lagging.request(routeRequest("", "a", "b", "c"))
	if first == nil {
		t.Fatal("no first response")
	}

	install(t, c, routesAt("v2", v2))
	o := ack(current, one(current.follow()))
	if got := routeNames(t, o); !slices.Equal(got, []string{"b2"}) {
		t.Errorf("after one route changed, the stream at v1 was sent %v, want only b2", got)
	}
	if got := lagging.follow(); len(got) != 0 {
		t.Fatalf("a stream that did not answer its first response was sent %d more", len(got))
	}

	install(t, c, routesAt("v3", v3))
	// The lagging stream ACKs v1 only now, two versions behind: its request
	// is answered with the whole type.
	if got := lagging.follow(); len(got) != 0 {
		t.Fatalf("a stream that did not answer its first response was sent %d more", len(got))
	}
	if got := routeNames(t, ack(lagging, lagging.request(sotwRequest(resource.RouteType, "v1", first.resp.GetNonce(), "a", "b", "c")))); !slices.Equal(got, all(v3)) {
		t.Errorf("a stream two versions behind was sent %v, want %v", got, all(v3))
	}

	// A NACK of v3 (callbacks.sotwRequest claims the rejected version):
	// the stream no longer vouches for what it holds, and v4 goes whole.
	o = one(current.follow())
	if got := routeNames(t, o); !slices.Equal(got, []string{"c3"}) {
		t.Errorf("the stream at v2 was sent %v, want only c3", got)
	}
	nack := sotwRequest(resource.RouteType, "v3", o.resp.GetNonce(), "a", "b", "c")
	nack.ErrorDetail = &rpcstatus.Status{Message: "rejected"}
	if r := current.request(nack); r != nil {
		t.Fatalf("a NACK was answered with %v", routeNames(t, r))
	}
	v4 := map[string]string{"a": "a4", "b": "b2", "c": "c3"}
	install(t, c, routesAt("v4", v4))
	if got := routeNames(t, one(current.follow())); !slices.Equal(got, all(v4)) {
		t.Errorf("after a NACK the stream was sent %v, want %v", got, all(v4))
	}
}
