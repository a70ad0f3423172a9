package server_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
	"github.com/trustgate/trustgate/xds/translate"
)

// rawResponse is one response of a raw stream, SotW or delta.
type rawResponse struct {
	typeURL, version, nonce string
	names                   []string
}

func (s adsStream) recvRaw() (rawResponse, error) {
	if s.delta != nil {
		r, err := s.delta.Recv()
		if err != nil {
			return rawResponse{}, err
		}
		out := rawResponse{typeURL: r.GetTypeUrl(), version: r.GetSystemVersionInfo(), nonce: r.GetNonce()}
		for _, res := range r.GetResources() {
			out.names = append(out.names, res.GetName())
		}
		return out, nil
	}
	r, err := s.sotw.Recv()
	if err != nil {
		return rawResponse{}, err
	}
	out := rawResponse{typeURL: r.GetTypeUrl(), version: r.GetVersionInfo(), nonce: r.GetNonce()}
	for _, a := range r.GetResources() {
		m, err := a.UnmarshalNew()
		if err != nil {
			return rawResponse{}, err
		}
		out.names = append(out.names, nameOf(m))
	}
	return out, nil
}

// ack answers a response as Envoy does: SotW repeats the names with the
// version and nonce; delta sends the nonce alone.
func (s adsStream) ack(r rawResponse, names []string) error {
	if s.delta != nil {
		return s.delta.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: r.typeURL, ResponseNonce: r.nonce})
	}
	return s.sotw.Send(&discoveryv3.DiscoveryRequest{TypeUrl: r.typeURL, ResourceNames: names, VersionInfo: r.version, ResponseNonce: r.nonce})
}

// until receives until a response of typeURL and returns it with the
// responses of watched received before it.
func (s adsStream) until(typeURL, watched string) (rawResponse, []rawResponse, error) {
	var extra []rawResponse
	for {
		r, err := s.recvRaw()
		if err != nil {
			return rawResponse{}, extra, err
		}
		if r.typeURL == typeURL {
			return r, extra, nil
		}
		if r.typeURL == watched {
			extra = append(extra, r)
		}
	}
}

// TestOneResponsePerChange sends wildcard ("*") and repeated requests and
// counts the responses of their type: one when the stream asks, none for
// an ACK however often it is repeated, and one per change. A request for
// another type is the barrier: responses leave a stream in the order the
// cache produced them, so one produced by an ACK comes before the barrier's.
//
// go-control-plane v0.14 answered an SDS request naming "*" again on every
// ACK: the non-ADS cache (pkg/cache/v3/simple.go, createResponse) answers
// with the resources whose names the request lists, so "*" got none, while
// CreateWatch, seeing a wildcard subscription (pkg/server/stream/v3
// Subscription.SetResourceSubscription) with snapshot resources not
// returned, responded again at once; Envoy ACKs and the two loop.
func TestOneResponsePerChange(t *testing.T) {
	changeCRL := func(h *harness, round int) {
		h.set(func(h *harness) {
			if err := h.pki.SetCRL(time.Date(2026, 8, 1, round, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
		})
	}
	changeCluster := func(h *harness, round int) {
		h.set(func(h *harness) {
			h.edit = func(r *translate.Resources) {
				r.Clusters[0].ConnectTimeout = durationpb.New(time.Duration(round+3) * time.Second)
			}
		})
	}
	changeListener := func(h *harness, round int) {
		h.set(func(h *harness) {
			h.edit = func(r *translate.Resources) { r.Listeners[0].StatPrefix = fmt.Sprint("round-", round) }
		})
	}
	allSecrets := []string{fixture.CertSecret, fixture.CASecret} // sorted
	tests := map[string]struct {
		delta    bool
		typeURL  string
		names    []string
		acks     int      // how often each ACK is sent
		want     []string // the resources the first response carries, sorted; later ones (delta: those changed) some of them
		change   func(*harness, int)
		barriers [2]string
	}{
		"sotw SDS *": {
			typeURL: envoytest.SecretType, names: []string{"*"}, acks: 1, want: allSecrets,
			change: changeCRL, barriers: [2]string{envoytest.ClusterType, envoytest.ListenerType},
		},
		"sotw SDS * and a name": {
			typeURL: envoytest.SecretType, names: []string{"*", fixture.CASecret}, acks: 1, want: allSecrets,
			change: changeCRL, barriers: [2]string{envoytest.ClusterType, envoytest.ListenerType},
		},
		"sotw SDS by name, ACK sent five times": {
			typeURL: envoytest.SecretType, names: []string{fixture.CASecret}, acks: 5, want: []string{fixture.CASecret},
			change: changeCRL, barriers: [2]string{envoytest.ClusterType, envoytest.ListenerType},
		},
		"sotw LDS *": {
			typeURL: envoytest.ListenerType, names: []string{"*"}, acks: 1, want: []string{fixture.ListenerName},
			change: changeListener, barriers: [2]string{envoytest.ClusterType, envoytest.RouteType},
		},
		"sotw CDS * and a name, ACK sent five times": {
			typeURL: envoytest.ClusterType, names: []string{"*", fixture.ClusterName}, acks: 5, want: []string{fixture.ClusterName},
			change: changeCluster, barriers: [2]string{envoytest.ListenerType, envoytest.RouteType},
		},
		"sotw CDS, ACK sent five times": {
			typeURL: envoytest.ClusterType, acks: 5, want: []string{fixture.ClusterName},
			change: changeCluster, barriers: [2]string{envoytest.ListenerType, envoytest.RouteType},
		},
		"delta SDS *": {
			delta: true, typeURL: envoytest.SecretType, names: []string{"*"}, acks: 1, want: allSecrets,
			change: changeCRL, barriers: [2]string{envoytest.ClusterType, envoytest.ListenerType},
		},
		"delta LDS *, ACK sent five times": {
			delta: true, typeURL: envoytest.ListenerType, names: []string{"*"}, acks: 5, want: []string{fixture.ListenerName},
			change: changeListener, barriers: [2]string{envoytest.ClusterType, envoytest.RouteType},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			h.start(h.options())
			s := openADS(t, h.addr, tc.delta, plaintext)
			if err := s.send(node("wild", gateway), tc.typeURL, tc.names...); err != nil {
				t.Fatal(err)
			}
			first, _, err := s.until(tc.typeURL, "")
			if err != nil {
				t.Fatal(err)
			}
			for round, barrier := range tc.barriers {
				r := first
				if round > 0 {
					tc.change(h, round)
					h.mustReload()
					var extra []rawResponse
					if r, extra, err = s.until(tc.typeURL, ""); err != nil {
						t.Fatal(err)
					}
					if len(extra) > 0 || r.version == first.version {
						t.Fatalf("after the change: %+v, want a new version", r)
					}
				}
				got := slices.Sorted(slices.Values(r.names))
				if round == 0 && !slices.Equal(got, tc.want) || len(got) == 0 || !isSubset(got, tc.want) {
					t.Errorf("round %d: the response carries %v, want %v", round, got, tc.want)
				}
				for range tc.acks {
					if err := s.ack(r, tc.names); err != nil {
						t.Fatal(err)
					}
				}
				var names []string
				if barrier == envoytest.RouteType {
					names = []string{fixture.RouteName}
				}
				if err := s.send(nil, barrier, names...); err != nil {
					t.Fatal(err)
				}
				_, extra, err := s.until(barrier, tc.typeURL)
				if err != nil {
					t.Fatal(err)
				}
				if len(extra) > 0 {
					t.Fatalf("round %d: %d more responses of %s for no change (%d ACKs sent): %+v", round, len(extra), tc.typeURL, tc.acks, extra[0])
				}
			}
			// The loop would also have shown as pushes: two per type asked.
			if got := h.counter(fmt.Sprintf(`trustgate_xds_pushes_total{type=%q}`, shortName(tc.typeURL))); got != 2 {
				t.Errorf("%v responses of %s pushed, want 2 (one, then one for the change)", got, tc.typeURL)
			}
		})
	}
}

func isSubset(xs, of []string) bool {
	for _, x := range xs {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return true
}

func shortName(typeURL string) string {
	return map[string]string{
		envoytest.ClusterType: "cluster", envoytest.ListenerType: "listener", envoytest.SecretType: "secret",
		envoytest.RouteType: "route", envoytest.EndpointType: "endpoint",
	}[typeURL]
}

// TestTurnToWildcardHoldingEverySecret: a SotW stream that holds every
// secret of its group, named one by one, and turns to the wildcard ("*") at
// the version it runs is sent nothing: it lacks no secret. Two ways to hold
// them: sent on this stream, or ACKed on an earlier stream of the same proxy
// and presented again at the current version (sotwStream.resume). The
// stream used to be answered once more, with every secret it held:
// go-control-plane v0.14 answers a wildcard request at the current version
// only when a resource of the snapshot was not returned to the stream
// (pkg/cache/v3/simple.go, CreateWatch), and Envoy gains nothing from it
// (SdsApi::onConfigUpdate, source/common/secret/sds_api.cc, drops a secret
// whose hash is unchanged, then ACKs).
func TestTurnToWildcardHoldingEverySecret(t *testing.T) {
	allSecrets := []string{fixture.CertSecret, fixture.CASecret}
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	h.start(h.options())
	// request sends a SotW request of secrets at version, answering nonce.
	request := func(s adsStream, version, nonce string, names ...string) {
		t.Helper()
		req := &discoveryv3.DiscoveryRequest{Node: node("turns", gateway), TypeUrl: envoytest.SecretType, ResourceNames: names, VersionInfo: version, ResponseNonce: nonce}
		if err := s.sotw.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	// quiet sends a request for clusters, the barrier, and fails on any
	// response of secrets before its answer. The barrier answers the
	// stream's last clusters response at no version, so it is answered.
	barriers := map[adsStream]string{}
	quiet := func(s adsStream, what string) {
		t.Helper()
		if err := s.sotw.Send(&discoveryv3.DiscoveryRequest{TypeUrl: envoytest.ClusterType, ResponseNonce: barriers[s]}); err != nil {
			t.Fatal(err)
		}
		b, extra, err := s.until(envoytest.ClusterType, envoytest.SecretType)
		if err != nil {
			t.Fatal(err)
		}
		barriers[s] = b.nonce
		for _, r := range extra {
			t.Errorf("%s: sent secrets %v again at version %.12s, which it holds", what, r.names, r.version)
		}
	}

	first := openADS(t, h.addr, false, plaintext)
	request(first, "", "", allSecrets...)
	r, _, err := first.until(envoytest.SecretType, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(r.names)); !slices.Equal(got, slices.Sorted(slices.Values(allSecrets))) {
		t.Fatalf("the first response carries %v, want %v", got, allSecrets)
	}
	request(first, r.version, r.nonce, allSecrets...) // the ACK
	quiet(first, "after the ACK")
	request(first, r.version, r.nonce, wildcardName)
	quiet(first, "a stream sent every secret by name, turning to the wildcard")

	// A new stream of the same proxy, resuming at the version it ACKed.
	second := openADS(t, h.addr, false, plaintext)
	request(second, r.version, "", allSecrets...)
	quiet(second, "a stream resuming with every secret ACKed")
	request(second, r.version, "", wildcardName)
	quiet(second, "a resumed stream holding every secret, turning to the wildcard")

	// One that stops asking for a secret holds no longer every secret: it
	// turns to the wildcard and is sent them all.
	third := openADS(t, h.addr, false, plaintext)
	request(third, "", "", allSecrets...)
	if r, _, err = third.until(envoytest.SecretType, ""); err != nil {
		t.Fatal(err)
	}
	request(third, r.version, r.nonce, fixture.CASecret)
	quiet(third, "a stream dropping a secret")
	request(third, r.version, r.nonce, wildcardName)
	if r, _, err = third.until(envoytest.SecretType, ""); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(r.names)); !slices.Equal(got, slices.Sorted(slices.Values(allSecrets))) {
		t.Errorf("a stream that dropped a secret turned to the wildcard and was sent %v, want %v", got, allSecrets)
	}
}

// wildcardName is the xDS protocol's explicit wildcard.
const wildcardName = "*"
