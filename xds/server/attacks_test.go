package server_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// TestBadClients attacks one server in turn; after each attack the
// well-behaved proxy still gets and ACKs an update, and once the attackers
// are gone the goroutines and heap return to their baseline.
func TestBadClients(t *testing.T) {
	s := newSiege(t)
	attacks := []struct {
		name string
		run  func(*testing.T, *siege)
	}{
		{"junk type URLs", junkTypes},
		{"garbage on the wire", garbage},
		{"oversized requests", oversized},
		{"too many streams on a connection", tooManyStreams},
		{"ping flood", pingFlood},
		{"reconnect storm", reconnectStorm},
	}
	for _, a := range attacks { // in order: each checks recovery before the next
		t.Run(a.name, func(t *testing.T) {
			s.t = t
			a.run(t, s)
			s.recovered()
		})
	}
}

// junkTypes asks for a thousand types that are not served: each is dropped
// (no watch is kept for it) and counted, and the stream still works.
func junkTypes(t *testing.T, s *siege) {
	c, closeConn := s.conn()
	defer closeConn()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	before := s.h.counter(`trustgate_xds_unknown_resource_requests_total{type="other"}`)
	st := s.stream(ctx, c, false)
	if err := st.send(badNode, envoytest.ClusterType); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if err := st.send(nil, fmt.Sprintf("type.googleapis.com/junk.v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.send(nil, envoytest.ListenerType); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{envoytest.ClusterType, envoytest.ListenerType} {
		if got, _, err := st.recv(); err != nil || got != want {
			t.Fatalf("got %s (%v), want %s: junk types are ignored", got, err, want)
		}
	}
	s.alive()
	if after := s.h.counter(`trustgate_xds_unknown_resource_requests_total{type="other"}`); after != before+1000 {
		t.Errorf("unknown type requests counted %v, want %v", after-before, 1000)
	}
	// A request without a type URL is an error (go-control-plane's).
	empty := s.stream(ctx, c, true)
	if err := empty.send(badNode, ""); err != nil {
		t.Fatal(err)
	}
	if got := empty.ended(); got.Code() != codes.InvalidArgument {
		t.Errorf("no type URL: %v, want InvalidArgument", got)
	}
}

// rawCodec sends bytes as they are, under the proto codec's name, so that
// the server tries to decode them as a request.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: %T", v)
	}
	return b, nil
}

func (rawCodec) Unmarshal(b []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: %T", v)
	}
	*p = b
	return nil
}

func (rawCodec) Name() string { return "proto" }

// garbage sends bytes that are not what they should be, at each layer.
func garbage(t *testing.T, s *siege) {
	junk := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2)) // fixed: a failure can be replayed
	for i := range junk {
		junk[i] = byte(rng.UintN(256))
	}
	// Instead of a TLS handshake, and instead of HTTP/2 after one: the
	// server hangs up.
	raw, err := net.Dial("tcp", s.h.addr)
	if err != nil {
		t.Fatal(err)
	}
	expectHangUp(t, "junk instead of a TLS handshake", raw, junk)
	tc := s.tlsConn()
	expectHangUp(t, "junk instead of HTTP/2", tc, junk)

	// Instead of a request: the stream ends with an error status.
	c, closeConn := s.conn()
	defer closeConn()
	messages := map[string][]byte{
		"an invalid varint": {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"random bytes":      junk[:4096],
	}
	for name, msg := range messages {
		for _, method := range []string{
			"/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources",
			"/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources",
		} {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			st, err := c.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, method, grpc.ForceCodec(rawCodec{}))
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			if err := st.SendMsg(msg); err != nil && !errors.Is(err, io.EOF) {
				cancel()
				t.Fatal(err)
			}
			var resp []byte
			err = st.RecvMsg(&resp)
			cancel()
			if code := status.Code(err); code == codes.OK || code == codes.DeadlineExceeded {
				t.Errorf("%s on %s: %v; want the stream ended with an error", name, method, err)
			}
		}
	}
	s.alive()
}

// expectHangUp writes junk and waits for the server to close the connection.
func expectHangUp(t *testing.T, what string, c net.Conn, junk []byte) {
	t.Helper()
	defer func() { _ = c.Close() }() // already closed by the server
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write(junk) // the server may hang up mid-way
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("%s: the server kept the connection open", what)
	}
}

// tlsConn is a connection that completed the mutual TLS handshake as "bad",
// negotiating HTTP/2 but not yet speaking it.
func (s *siege) tlsConn() *tls.Conn {
	s.t.Helper()
	cfg, err := s.m.clients["bad"].TLSConfig(serverName)
	if err != nil {
		s.t.Fatal(err)
	}
	cfg.NextProtos = []string{"h2"}
	c, err := tls.Dial("tcp", s.h.addr, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// oversized sends requests over the limits: each ends its stream with the
// status that names the limit.
func oversized(t *testing.T, s *siege) {
	names := func(n, size int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%d-%s", i, strings.Repeat("x", size))
		}
		return out
	}
	versions := map[string]string{}
	for _, n := range names(100_001, 8) {
		versions[n] = "v"
	}
	tests := map[string]struct {
		sotw  *discoveryv3.DiscoveryRequest
		delta *discoveryv3.DeltaDiscoveryRequest
		want  codes.Code
	}{
		"100k names and one": {
			sotw: &discoveryv3.DiscoveryRequest{Node: badNode, TypeUrl: envoytest.EndpointType, ResourceNames: names(100_001, 8)},
			want: codes.InvalidArgument,
		},
		"100k initial versions and one": {
			delta: &discoveryv3.DeltaDiscoveryRequest{Node: badNode, TypeUrl: envoytest.EndpointType, InitialResourceVersions: versions},
			want:  codes.InvalidArgument,
		},
		"17 MiB of names": {
			sotw: &discoveryv3.DiscoveryRequest{Node: badNode, TypeUrl: envoytest.SecretType, ResourceNames: names(17, 1<<20)},
			want: codes.InvalidArgument,
		},
		"33 MiB: over gRPC's receive limit": {
			delta: &discoveryv3.DeltaDiscoveryRequest{Node: badNode, TypeUrl: envoytest.SecretType, ResourceNamesSubscribe: names(33, 1<<20)},
			want:  codes.ResourceExhausted,
		},
	}
	c, closeConn := s.conn()
	defer closeConn()
	for name, tc := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		st := s.stream(ctx, c, tc.delta != nil)
		var err error
		if tc.delta != nil {
			err = st.delta.Send(tc.delta)
		} else {
			err = st.sotw.Send(tc.sotw)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("%s: %v", name, err)
		}
		if got := st.ended(); got.Code() != tc.want {
			t.Errorf("%s (%d bytes): %v, want %v", name, proto.Size(orDelta(tc.sotw, tc.delta)), got, tc.want)
		}
		cancel()
	}
	s.alive()
}

func orDelta(s *discoveryv3.DiscoveryRequest, d *discoveryv3.DeltaDiscoveryRequest) proto.Message {
	if d != nil {
		return d
	}
	return s
}

// tooManyStreams opens more streams on one connection than the server
// allows: the first sixteen are served, the rest wait.
func tooManyStreams(t *testing.T, s *siege) {
	c, closeConn := s.conn()
	defer closeConn()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for i := range 16 {
		st := s.stream(ctx, c, i%2 == 1)
		if err := st.send(badNode, envoytest.ClusterType); err != nil {
			t.Fatal(err)
		}
		if got, _, err := st.recv(); err != nil || got != envoytest.ClusterType {
			t.Fatalf("stream %d: %s (%v)", i, got, err)
		}
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	for i := range 4 {
		st, err := openOn(short, c, false)
		if err == nil {
			err = st.send(badNode, envoytest.ClusterType)
		}
		if err == nil {
			_, _, err = st.recv()
		}
		if code := status.Code(err); code != codes.DeadlineExceeded {
			t.Errorf("stream %d over the limit: %v, want to wait until its deadline", 16+i, err)
		}
	}
	s.alive() // while the sixteen streams are open
	if line, err := s.h.metric("trustgate_xds_connected_proxies"); err != nil || line != "trustgate_xds_connected_proxies 17" {
		t.Errorf("connected = %q (%v), want gw-1 and sixteen streams", line, err)
	}
}

// pingFlood sends HTTP/2 PINGs without pause: the keepalive policy answers
// with GOAWAY ENHANCE_YOUR_CALM "too_many_pings" and closes the connection.
func pingFlood(t *testing.T, s *siege) {
	c := s.tlsConn()
	defer func() { _ = c.Close() }() // closed by the server
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	frame := func(typ byte, payload []byte) []byte {
		h := make([]byte, 9, 9+len(payload))
		h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
		h[3] = typ // flags 0, stream 0
		return append(h, payload...)
	}
	const settings, ping, goaway = 0x4, 0x6, 0x7
	out := append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), frame(settings, nil)...)
	for i := range 10 {
		out = append(out, frame(ping, binary.BigEndian.AppendUint64(nil, uint64(i)))...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	for {
		h := make([]byte, 9)
		if _, err := io.ReadFull(c, h); err != nil {
			t.Fatalf("connection ended without a GOAWAY: %v", err)
		}
		payload := make([]byte, int(h[0])<<16|int(h[1])<<8|int(h[2]))
		if _, err := io.ReadFull(c, payload); err != nil {
			t.Fatal(err)
		}
		if h[3] != goaway {
			continue
		}
		const enhanceYourCalm = 0xb
		if code := binary.BigEndian.Uint32(payload[4:8]); code != enhanceYourCalm || !strings.Contains(string(payload[8:]), "too_many_pings") {
			t.Errorf("GOAWAY code %#x %q, want ENHANCE_YOUR_CALM too_many_pings", code, payload[8:])
		}
		break
	}
	if _, err := io.Copy(io.Discard, c); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Error("the server kept the connection open after its GOAWAY")
		}
	}
	s.alive()
}

// stormClients connect, get their first response (or, one in five, are
// refused for claiming gw-1's node id) and leave, stormParallel at a time.
const (
	stormClients  = 500
	stormParallel = 16
)

func reconnectStorm(t *testing.T, s *siege) {
	dial := s.m.dial("bad") // one TLS configuration, as a real fleet would have many
	deniedBefore := s.h.counter(`trustgate_xds_denied_streams_total{reason="node_id"}`)
	work := make(chan int)
	errs := make(chan error, stormClients)
	var wg sync.WaitGroup
	for range stormParallel {
		wg.Go(func() {
			for i := range work {
				errs <- stormOne(s.h.addr, dial, i)
			}
		})
	}
	started := time.Now()
	var feed sync.WaitGroup
	feed.Go(func() {
		for i := range stormClients {
			work <- i
		}
		close(work)
	})
	s.alive() // in the middle of the storm
	feed.Wait()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d clients in %v", stormClients, time.Since(started).Round(time.Millisecond))
	if got := s.h.counter(`trustgate_xds_denied_streams_total{reason="node_id"}`) - deniedBefore; got != stormClients/5 {
		t.Errorf("%v impostors refused, want %d", got, stormClients/5)
	}
	s.alive()
}

// stormOne is one client of the storm.
func stormOne(addr string, dial grpc.DialOption, i int) error {
	c, err := grpc.NewClient(addr, dial)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := openOn(ctx, c, i%2 == 1)
	if err == nil {
		if i%5 == 0 {
			err = st.send(node("gw-1", gateway), envoytest.ClusterType)
			if code := st.ended().Code(); err == nil && code != codes.PermissionDenied {
				err = fmt.Errorf("client %d claiming gw-1: %v, want PermissionDenied", i, code)
			}
		} else if err = st.send(badNode, envoytest.ClusterType); err == nil {
			_, _, err = st.recv()
		}
	}
	return errors.Join(err, c.Close())
}
