package props

import (
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/envoymodel"
)

// Client is a certificate chain a generated connection may present.
type Client struct {
	Name  string
	Chain []*x509.Certificate
	// Scope is the client CA bundle the chain was made for (ScopeOf its
	// roots), "" for a client meant for every server. A bounded run sends
	// a scoped client to its own CA's servers and a few others.
	Scope string
}

// Violation is a property that failed, with the connection and request
// that show it.
type Violation struct {
	Property   string `json:"property"`
	Connection string `json:"connection"`
	Request    string `json:"request"`
	Got        string `json:"got"`
	Want       string `json:"want"`
	// Count is how many generated cases showed the same failure.
	Count int `json:"count"`
	// Gateway ("namespace/name"), ServerIndex (in spec.servers) and
	// Server (its name or port name) are the server the failure is about:
	// the MUTUAL host's for P1, else the one whose filter chain took the
	// connection. Host is the request's host without its port.
	Gateway     string `json:"gateway"`
	ServerIndex int    `json:"serverIndex"`
	Server      string `json:"server"`
	Host        string `json:"host"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s; %s: got %s, want %s", v.Property, v.Connection, v.Request, v.Got, v.Want)
}

// Property names.
const (
	PropMutual      = "P1 mutual"
	PropIdentity    = "P2 identity"
	PropAuthz       = "P3 authz"
	PropMisdirected = "P4 misdirected"
	PropRejection   = "P5 rejection"
)

// forged marks a client-sent identity header value.
const forged = "forged-by-client"

// Check runs every property over the connections and requests generated
// for a proxy group's resources, presenting the given clients, without
// bounds. The violations are deduplicated by property and what failed;
// each keeps its first example.
func Check(cfg *model.Config, labels map[string]string, res *envoymodel.Resources, clients []Client, now time.Time) ([]Violation, error) {
	r, err := Run(cfg, labels, res, Options{}.With(clients, now))
	if err != nil {
		return nil, err
	}
	return r.Violations, nil
}

// Run is Check with options: the clients and the time, bounds on the
// probes, and clients made from twins of the configuration's client CAs.
func Run(cfg *model.Config, labels map[string]string, res *envoymodel.Resources, opts Options) (*Result, error) {
	clients, now := opts.Clients, opts.Now
	in, err := ReadIntent(cfg, labels)
	if err != nil {
		return nil, err
	}
	if opts.Synthesize {
		made, twinned, err := Synthesize(in, res, now)
		if err != nil {
			return nil, err
		}
		clients, res = append(append([]Client{}, clients...), made...), twinned
	}
	m, err := envoymodel.New(res, envoymodel.Options{Now: now})
	if err != nil {
		return nil, err
	}
	c := &checker{in: in, m: m, clients: clients, now: now, opts: opts, seen: map[string]*Violation{}, verified: map[*Server]bool{}}
	for _, cl := range clients {
		c.scoped = c.scoped || cl.Scope != ""
	}
	for _, port := range in.httpPorts() {
		c.port(port)
	}
	out := &Result{Violations: make([]Violation, 0, len(c.order)), Probes: c.probes, Validated: c.validated, Clients: clients}
	for _, k := range c.order {
		out.Violations = append(out.Violations, *c.seen[k])
	}
	for _, port := range in.httpPorts() {
		for _, s := range in.servers(port) {
			if s.Validation != nil && !c.verified[s] {
				out.Unverified = append(out.Unverified, s)
			}
		}
	}
	return out, nil
}

// checker holds one run.
type checker struct {
	in      *Intent
	m       *envoymodel.Model
	clients []Client
	now     time.Time
	opts    Options
	scoped  bool // some client has a Scope
	probes  int
	// validated counts probes with a certificate the model verified;
	// verified marks the servers whose chain verified one.
	validated int
	verified  map[*Server]bool
	seen      map[string]*Violation
	order     []string
}

// httpPorts are the ports with an HTTP or HTTPS server, sorted.
func (in *Intent) httpPorts() []uint32 {
	set := map[uint32]bool{}
	for _, s := range in.Servers {
		if s.Protocol == "HTTP" || s.Protocol == "HTTPS" || s.Protocol == "HTTP2" {
			set[s.Port] = true
		}
	}
	var out []uint32
	for p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// servers are a port's HTTP(S) servers.
func (in *Intent) servers(port uint32) []*Server {
	var out []*Server
	for _, s := range in.Servers {
		if s.Port == port && s.Mode != "PASSTHROUGH" && (s.Protocol == "HTTP" || s.Protocol == "HTTPS" || s.Protocol == "HTTP2") {
			out = append(out, s)
		}
	}
	return out
}

// concrete are names a server's hosts stand for.
func concrete(s *Server) []string { return concreteNames(s.Hosts) }

// concreteNames are names host patterns stand for.
func concreteNames(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		switch {
		case h == "*":
			out = append(out, "any.example.net")
		case strings.HasPrefix(h, "*."):
			out = append(out, "w1"+h[1:])
		default:
			out = append(out, h)
		}
	}
	return out
}

// record adds a violation, deduplicated by key.
func (c *checker) record(key string, v Violation) {
	key = v.Property + "|" + key
	if prev, ok := c.seen[key]; ok {
		prev.Count++
		return
	}
	v.Count = 1
	c.seen[key] = &v
	c.order = append(c.order, key)
}
