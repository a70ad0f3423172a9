package server

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc/peer"
)

// Why connections of the ADS listener are closed, in
// trustgate_xds_connections_closed_total{reason}.
const (
	reasonMaxConnections = "max_connections" // refused at accept: Options.MaxConnections are open
	reasonIdleTimeout    = "idle_timeout"    // no ADS stream open for Options.IdleTimeout
)

// connLimiter is the ADS listener with bounds on what clients hold: at most
// max connections (more are closed as soon as they are accepted, so the
// file descriptors left serve the admin endpoint and the files), and none
// kept for idle with no ADS stream open — neither one that never opens a
// stream nor one whose streams ended. gRPC's own knobs do not do this: it
// has no cap on connections, and its handshake timeout ends once HTTP/2 is
// up. Streams are reported by the guard's interceptor (streamStarted).
//
// Wrapping the connection hides its *net.TCPConn from gRPC, which then does
// not set TCP_USER_TIMEOUT (internal/syscall.SetTCPUserTimeout returns early
// for other types); the keepalive pings still end a vanished peer's
// connection (grpc.go).
type connLimiter struct {
	net.Listener
	max     int
	idle    time.Duration
	metrics *metrics
	log     *rateLog

	mu    sync.Mutex
	conns map[string]*trackedConn // by remote address
}

func newConnLimiter(l net.Listener, max int, idle time.Duration, m *metrics, log *slog.Logger) *connLimiter {
	return &connLimiter{Listener: l, max: max, idle: idle, metrics: m, log: newRateLog(log, 10*time.Second),
		conns: map[string]*trackedConn{}}
}

// Accept returns the next connection within the cap, closing those over it.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc := l.admit(c); tc != nil {
			return tc, nil
		}
		l.metrics.connsClosed.WithLabelValues(reasonMaxConnections).Inc()
		l.log.warn(reasonMaxConnections, "xDS connection refused: over --max-connections",
			"peer", c.RemoteAddr().String(), "max", l.max)
		_ = c.Close() // refused; the client sees the connection end
	}
}

// admit tracks c, or returns nil when max connections are open.
func (l *connLimiter) admit(c net.Conn) *trackedConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) >= l.max {
		return nil
	}
	tc := &trackedConn{Conn: c, l: l, last: time.Now()}
	tc.mu.Lock() // the timer may fire before it is stored: checkIdle waits
	tc.timer = time.AfterFunc(l.idle, tc.checkIdle)
	tc.mu.Unlock()
	l.conns[c.RemoteAddr().String()] = tc
	l.metrics.conns.Set(float64(len(l.conns)))
	return tc
}

func (l *connLimiter) forget(tc *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	addr := tc.RemoteAddr().String()
	if l.conns[addr] == tc {
		delete(l.conns, addr)
		l.metrics.conns.Set(float64(len(l.conns)))
	}
}

// streamStarted marks the connection of a stream's peer busy until the
// returned function is called.
func (l *connLimiter) streamStarted(ctx context.Context) (ended func()) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return func() {}
	}
	l.mu.Lock()
	tc := l.conns[p.Addr.String()]
	l.mu.Unlock()
	if tc == nil {
		return func() {}
	}
	tc.mu.Lock()
	tc.streams++
	tc.mu.Unlock()
	return tc.streamEnded
}

// trackedConn is an accepted connection and its open ADS streams.
type trackedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once

	mu      sync.Mutex
	timer   *time.Timer
	streams int
	last    time.Time // accepted, or its last stream ended
	closed  bool
}

// Close implements net.Conn.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.timer.Stop()
		c.mu.Unlock()
		c.l.forget(c)
	})
	return c.Conn.Close()
}

func (c *trackedConn) streamEnded() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streams--
	if c.streams == 0 && !c.closed {
		c.last = time.Now()
		c.timer.Reset(c.l.idle)
	}
}

// checkIdle closes the connection if it has had no stream for the idle
// timeout; a stream ending re-arms the timer.
func (c *trackedConn) checkIdle() {
	c.mu.Lock()
	if c.streams > 0 || c.closed {
		c.mu.Unlock()
		return
	}
	if left := c.l.idle - time.Since(c.last); left > 0 {
		c.timer.Reset(left)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.l.metrics.connsClosed.WithLabelValues(reasonIdleTimeout).Inc()
	c.l.log.warn(reasonIdleTimeout, "xDS connection closed: no ADS stream within --xds-idle-timeout",
		"peer", c.RemoteAddr().String(), "idle", c.l.idle.String())
	_ = c.Close() // gRPC sees its reads fail and drops the transport
}

// rateLog logs a warning per kind at most once an interval, saying how
// many were left out since: a flood of refusals is a few lines, not one per
// refusal.
type rateLog struct {
	log   *slog.Logger
	every time.Duration

	mu   sync.Mutex
	last map[string]time.Time
	left map[string]int
}

func newRateLog(log *slog.Logger, every time.Duration) *rateLog {
	return &rateLog{log: log, every: every, last: map[string]time.Time{}, left: map[string]int{}}
}

func (r *rateLog) warn(kind, msg string, args ...any) {
	r.mu.Lock()
	now := time.Now()
	if now.Sub(r.last[kind]) < r.every {
		r.left[kind]++
		r.mu.Unlock()
		return
	}
	r.last[kind] = now
	left := r.left[kind]
	r.left[kind] = 0
	r.mu.Unlock()
	if left > 0 {
		args = append(args, "more_since_last_logged", left)
	}
	r.log.Warn(msg, args...)
}
