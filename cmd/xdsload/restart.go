package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trustgate/trustgate/internal/cputime"
)

// Envoy's retry of its ADS stream, unless the bootstrap's ads_config sets a
// retry policy (envoy/bootstrap-*.yaml set none): ClusterManagerImpl (source/common/upstream/
// cluster_manager_impl.cc) gives the ADS mux a
// JitteredExponentialBackOffStrategy of SubscriptionFactory::
// RetryInitialDelayMs = 500 and RetryMaxDelayMs = 30000 (envoy/config/
// subscription_factory.h), and GrpcStream::setRetryTimer (source/
// extensions/config_subscription/grpc/grpc_stream.h) waits its
// nextBackOffMs() after every stream that closes (onRemoteClose) or fails
// to open (establishNewStream); a response received resets it
// (onReceiveMessage).
const (
	retryInitial = 500 * time.Millisecond
	retryMax     = 30 * time.Second
)

// backoff is JitteredExponentialBackOffStrategy (source/common/common/
// backoff_strategy.cc): nextBackOffMs draws a delay uniformly from
// [0, interval), the interval starting at the base and doubling while under
// half the maximum, then the maximum; reset goes back to the base. So the
// first retry after a restart comes within 500 ms, spread over that
// half-second across the clients.
type backoff struct{ interval time.Duration }

func newBackoff() backoff { return backoff{interval: retryInitial} }

// next returns the delay before the next try.
func (b *backoff) next() time.Duration {
	d := b.interval
	if b.interval < retryMax/2 {
		b.interval *= 2
	} else {
		b.interval = retryMax
	}
	return rand.N(d) //nolint:gosec // G404: spreads the clients' retries, guards nothing
}

func (b *backoff) reset() { b.interval = retryInitial }

// restart stops the server and starts a new one of the same spec on the
// same ADS address, in place: s is the new server afterwards, so that
// whatever stops s at the end of the run stops the one running. It returns
// when the old one had exited and when the new one was ready.
func (s *serverProc) restart(ctx context.Context) (exited, ready time.Time, err error) {
	if s.spec.bin == "" {
		return exited, ready, errors.New("this server cannot be restarted (no trustgate binary)")
	}
	if err := s.stop(); err != nil {
		return exited, ready, err
	}
	exited = time.Now()
	spec := s.spec
	spec.xds = s.xds
	next, err := startServer(ctx, spec)
	if err != nil {
		return exited, ready, err
	}
	*s = *next
	return exited, s.readyAt, nil
}

// restartRound is the control-plane restart (-restart). Durations are in
// milliseconds.
type restartRound struct {
	// StartMs is from the old server's exit to the new one ready.
	StartMs float64 `json:"start_ms"`
	// Resume is each client's time from the new server ready to the last
	// request opening its new stream (Sent; 0 when that came before the
	// poll of /readyz that saw the server ready); Resumed counts the
	// clients that opened one.
	Resume  latencies `json:"resume"`
	Resumed int       `json:"resumed"`
	// Streams is the new server's count of open ADS streams
	// (trustgate_xds_connected_proxies) once it counted every client,
	// StreamsMs when it first did, from the new server ready.
	Streams   int     `json:"streams"`
	StreamsMs float64 `json:"streams_ms"`
	// Bytes is what the clients received from the new server: from the
	// stop until no client received anything for restartQuiet.
	Bytes int64 `json:"bytes"`
	// The new server's CPU from its start (its configuration's load
	// included), and its peak and current RSS, at the end of the phase;
	// ClientsCPUMs is this process's CPU during the phase (the clients',
	// on the same cores).
	CPUMs        float64 `json:"server_cpu_ms"`
	RSSPeak      int64   `json:"rss_peak"`
	RSS          int64   `json:"rss_after"`
	ClientsCPUMs float64 `json:"clients_cpu_ms"`
}

// restartProfileSeconds is how long the restart phase's profiles
// (-cpu-profile) last from the new server ready: a storm of 1,000 clients
// resumes within a few seconds.
const restartProfileSeconds = 8

// restartQuiet is how long no client may receive anything for the restart
// phase's traffic to be over: the server answers a resumed stream at once,
// and the configuration does not change meanwhile, so what comes is the
// answers to the clients' first requests.
const restartQuiet = 500 * time.Millisecond

// restartPhase restarts the server, as a rollout of a one-replica control
// plane would, and measures the clients' return: every client's stream
// ends, and each opens a new one after Envoy's back-off, presenting what it
// holds. rep.RSSPeak becomes the old server's peak.
func restartPhase(ctx context.Context, c config, srv *serverProc, clients []*client, rep *report) (_ *restartRound, err error) {
	old, err := srv.usage()
	if err != nil {
		return nil, err
	}
	rep.RSSPeak = old.hwm
	bytes0, self := received(clients), cputime.SelfUsage()
	// The clients' profile (-cpu-profile) covers the whole phase; the new
	// server's can start only once it serves.
	stopClients, err := startClientsProfile(c, ".restart")
	if err != nil {
		return nil, err
	}
	waitServer := func() error { return nil }
	defer func() { err = errors.Join(err, stopClients(), waitServer()) }()
	exited, ready, err := srv.restart(ctx)
	if err != nil {
		return nil, err
	}
	r := &restartRound{StartMs: ms(ready.Sub(exited))}
	waitServer = startServerProfile(ctx, c, srv, ".restart", restartProfileSeconds)
	counted, err := awaitResumed(ctx, srv, clients, exited, r)
	if err != nil {
		return nil, err
	}
	r.StreamsMs = ms(counted.Sub(ready))
	times := make([]time.Duration, len(clients))
	for i, cl := range clients {
		opened, _ := cl.lastStream() // after exited, awaitResumed saw; how the old stream ended is no failure
		// A stream can open in the instant between the server's readiness
		// and startServer's next poll of /readyz (every 20 ms).
		times[i] = max(0, opened.Sub(ready))
	}
	r.Resume = summarise(times)
	if err := awaitQuiet(ctx, clients); err != nil {
		return nil, err
	}
	u, err := srv.usage()
	if err != nil {
		return nil, err
	}
	r.Bytes = received(clients) - bytes0
	r.CPUMs, r.RSSPeak, r.RSS = ms(u.cpu), u.hwm, u.rss
	r.ClientsCPUMs = ms(cputime.SelfUsage().CPU - self.CPU)
	return r, nil
}

// awaitResumed polls, every 20 ms until ctx ends, until every client has
// opened a stream since exited and the server's gauge of open ADS streams
// counts them all; it records both counts in r, and returns when the gauge
// first counted them.
func awaitResumed(ctx context.Context, srv *serverProc, clients []*client, exited time.Time, r *restartRound) (time.Time, error) {
	var counted time.Time
	for {
		if counted.IsZero() {
			n, err := srv.connectedStreams(ctx)
			if err != nil {
				return counted, err
			}
			if r.Streams = n; n == len(clients) {
				counted = time.Now()
			}
		}
		var lastErr error
		r.Resumed = 0
		for _, cl := range clients {
			opened, ended := cl.lastStream()
			switch {
			case opened.After(exited):
				r.Resumed++
			case ended != nil:
				lastErr = ended
			}
		}
		if r.Resumed == len(clients) && !counted.IsZero() {
			return counted, nil
		}
		select {
		case <-ctx.Done():
			return counted, fmt.Errorf("%d of %d clients resumed, the server counts %d streams: %w (a waiting client's last stream: %v)",
				r.Resumed, len(clients), r.Streams, ctx.Err(), lastErr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// awaitQuiet returns once no client has received anything for
// restartQuiet.
func awaitQuiet(ctx context.Context, clients []*client) error {
	last, since := received(clients), time.Now()
	for time.Since(since) < restartQuiet {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the clients kept receiving: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if b := received(clients); b != last {
			last, since = b, time.Now()
		}
	}
	return nil
}

// connectedGauge is the server's count of open ADS streams (xds/server
// metrics.go).
const connectedGauge = "trustgate_xds_connected_proxies"

// connectedStreams reads connectedGauge from the server's /metrics.
func (s *serverProc) connectedStreams(ctx context.Context) (int, error) {
	resp, err := httpGet(ctx, s.admin+"/metrics")
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }() // read in full below or abandoned: nothing to report
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("/metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		// The text format: "name value", a gauge without labels.
		if v, ok := strings.CutPrefix(sc.Text(), connectedGauge+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, errors.Join(sc.Err(), fmt.Errorf("/metrics has no %s", connectedGauge))
}
