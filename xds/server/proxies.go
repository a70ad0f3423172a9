package server

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/trustgate/trustgate/xds/server/labels"
)

// maxPending bounds the pushes remembered per stream and type while they
// await an answer; Envoy answers every response, so only a stuck or hostile
// client reaches it.
const maxPending = 16

// streamKey identifies a stream: SotW and delta streams are numbered
// separately (ads.go).
type streamKey struct {
	delta bool
	id    int64
}

// proxies tracks every open ADS stream: who is on it, what was pushed, what
// was ACKed or NACKed.
type proxies struct {
	metrics *metrics
	now     func() time.Time

	mu      sync.Mutex
	streams map[streamKey]*stream
	// secrets records, per node ID, the secrets a SotW proxy ACKed at a
	// version of its group's secrets; see sotwStream.resume.
	secrets map[string]ackedSecrets
}

type ackedSecrets struct {
	group, version string
	names          map[string]bool
}

type stream struct {
	key         streamKey
	peer        string
	connectedAt time.Time
	identified  bool // the first request was seen
	node        *corev3.Node
	labels      map[string]string
	group       string
	inGroup     bool // the stream holds its group (see groups.ensure)
	types       map[string]*typeState
}

type typeState struct {
	ackedVersion string
	ackedAt      time.Time
	nack         *NACK
	pushes       []push // sent and not yet answered, oldest first
	// unknown are the names of the previous SotW request of the type that
	// the group is not served (see unknownNames); asked is that request's
	// names, as their quickSum and count.
	unknown  map[string]bool
	asked    quickSum
	askedLen int
}

type push struct {
	nonce, version string
	names          []string // SotW secrets only: the names the request asked for
	at             time.Time
}

// NACK is Envoy's rejection of a response.
type NACK struct {
	Nonce   string    `json:"nonce"`
	Version string    `json:"version,omitempty"` // the rejected version, when known
	Code    int32     `json:"code,omitempty"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

func newProxies(m *metrics) *proxies {
	return &proxies{metrics: m, now: time.Now, streams: map[streamKey]*stream{}, secrets: map[string]ackedSecrets{}}
}

func (p *proxies) open(k streamKey, peer string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.streams[k] = &stream{key: k, peer: peer, connectedAt: p.now(), types: map[string]*typeState{}}
	p.metrics.connected.Inc()
}

// close forgets a stream.
func (p *proxies) close(k streamKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.streams[k]; ok {
		delete(p.streams, k)
		p.metrics.connected.Dec()
	}
}

// leaveGroup returns the group a stream holds, if any, and marks it left.
func (p *proxies) leaveGroup(k streamKey) (group string, held bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.streams[k]
	if !ok || !s.inGroup {
		return "", false
	}
	s.inGroup = false
	return s.group, true
}

// identify records the node of a stream's first request and joins the
// stream to its group; first is false when the stream was already
// identified (or is unknown). err is the group's refusal.
func (p *proxies) identify(k streamKey, n *corev3.Node, join func(map[string]string) (string, error)) (first bool, err error) {
	p.mu.Lock()
	s, ok := p.streams[k]
	if !ok || s.identified {
		p.mu.Unlock()
		return false, nil
	}
	s.identified, s.node = true, n
	s.labels = labels.FromNode(n)
	l := s.labels
	p.mu.Unlock()
	// Compiling the group may take a while: not under p.mu, which every
	// stream's ACK takes.
	g, err := join(l)
	if err != nil {
		return true, err
	}
	p.mu.Lock()
	s.group, s.inGroup = g, true
	p.mu.Unlock()
	return true, nil
}

// pushed records a response sent on a stream.
func (p *proxies) pushed(k streamKey, typeURL, nonce, version string, names []string) {
	p.metrics.pushes.WithLabelValues(shortType(typeURL)).Inc()
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.streams[k]
	if !ok {
		return
	}
	t := s.typeState(typeURL)
	t.pushes = append(t.pushes, push{nonce: nonce, version: version, names: names, at: p.now()})
	if len(t.pushes) > maxPending {
		t.pushes = slices.Delete(t.pushes, 0, len(t.pushes)-maxPending)
	}
}

// answered records Envoy's answer to the response with this nonce: an ACK,
// or a NACK when a.detail is set. a.version is the version Envoy reports as
// applied (SotW version_info); "" takes the pushed one (delta). For a NACK it
// returns the version rejected, when known.
func (p *proxies) answered(k streamKey, a answer) (rejected string) {
	typeURL, nonce, version, detail := a.typeURL, a.nonce, a.version, a.detail
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.streams[k]
	if !ok {
		return ""
	}
	t := s.typeState(typeURL)
	var pu *push
	if i := slices.IndexFunc(t.pushes, func(x push) bool { return x.nonce == nonce }); i >= 0 {
		found := t.pushes[i]
		pu = &found
		// Earlier pushes of this type were superseded: Envoy answers in order.
		t.pushes = slices.Delete(t.pushes, 0, i+1)
	}
	short := shortType(typeURL)
	if detail != nil {
		n := &NACK{Nonce: nonce, Code: detail.GetCode(), Message: detail.GetMessage(), At: p.now()}
		if pu != nil {
			n.Version = pu.version
		}
		t.nack = n
		p.metrics.nacks.WithLabelValues(short).Inc()
		return n.Version
	}
	if pu == nil {
		if version != "" {
			t.ackedVersion, t.ackedAt = version, p.now() // an ACK of an older push
		}
		return ""
	}
	if version == "" {
		version = pu.version
	}
	t.ackedVersion, t.ackedAt = version, p.now()
	p.metrics.ackLatency.WithLabelValues(short).Observe(p.now().Sub(pu.at).Seconds())
	if typeURL == resource.SecretType && !k.delta {
		p.recordSecrets(s, pu)
	}
	return ""
}

// recordSecrets remembers which secrets a SotW proxy holds at a version.
func (p *proxies) recordSecrets(s *stream, pu *push) {
	id := s.node.GetId()
	a := p.secrets[id]
	if a.group != s.group || a.version != pu.version {
		a = ackedSecrets{group: s.group, version: pu.version, names: map[string]bool{}}
	}
	for _, n := range pu.names {
		a.names[n] = true
	}
	p.secrets[id] = a
}

// ackedSecretNames returns the secrets node id ACKed at this version of its
// group's secrets.
func (p *proxies) ackedSecretNames(id, group, version string) map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.secrets[id]
	if a.group != group || a.version != version {
		return nil
	}
	return maps.Clone(a.names)
}

// forgetSecrets drops what no longer matches a group's current secrets.
func (p *proxies) forgetSecrets(current func(group string) string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, a := range p.secrets {
		if current(a.group) != a.version {
			delete(p.secrets, id)
		}
	}
}

func (s *stream) typeState(typeURL string) *typeState {
	t, ok := s.types[typeURL]
	if !ok {
		t = &typeState{}
		s.types[typeURL] = t
	}
	return t
}

// ProxyStatus is one connected ADS stream as /debug/proxies shows it.
type ProxyStatus struct {
	Stream      int64                 `json:"stream"`
	Protocol    string                `json:"protocol"` // "sotw" or "delta"
	NodeID      string                `json:"node_id"`
	Cluster     string                `json:"cluster,omitempty"`
	Labels      map[string]string     `json:"labels"`
	Group       string                `json:"group"`
	Peer        string                `json:"peer,omitempty"`
	ConnectedAt time.Time             `json:"connected_at"`
	Types       map[string]TypeStatus `json:"types"` // by short type name
}

// TypeStatus is the state of one resource type on a stream.
type TypeStatus struct {
	AckedVersion string     `json:"acked_version,omitempty"`
	AckedAt      *time.Time `json:"acked_at,omitempty"`
	LastNACK     *NACK      `json:"last_nack,omitempty"`
	Pending      int        `json:"pending,omitempty"` // responses not yet answered
}

// status lists the streams, by node ID then protocol then stream number.
func (p *proxies) status() []ProxyStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ProxyStatus, 0, len(p.streams))
	for _, s := range p.streams {
		ps := ProxyStatus{
			Stream: s.key.id, Protocol: "sotw", NodeID: s.node.GetId(), Cluster: s.node.GetCluster(),
			Labels: maps.Clone(s.labels), Group: s.group, Peer: s.peer, ConnectedAt: s.connectedAt,
			Types: map[string]TypeStatus{},
		}
		if s.key.delta {
			ps.Protocol = "delta"
		}
		for typeURL, t := range s.types {
			ts := TypeStatus{AckedVersion: t.ackedVersion, Pending: len(t.pushes)}
			if !t.ackedAt.IsZero() {
				at := t.ackedAt
				ts.AckedAt = &at
			}
			if t.nack != nil {
				n := *t.nack
				ts.LastNACK = &n
			}
			ps.Types[shortType(typeURL)] = ts
		}
		out = append(out, ps)
	}
	slices.SortFunc(out, func(a, b ProxyStatus) int {
		switch {
		case a.NodeID != b.NodeID:
			return cmp.Compare(a.NodeID, b.NodeID)
		case a.Protocol != b.Protocol:
			return cmp.Compare(a.Protocol, b.Protocol)
		}
		return cmp.Compare(a.Stream, b.Stream)
	})
	return out
}
