package xdstls

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Reasons a stream is refused, as Denial.Reason and in the server's
// trustgate_xds_denied_streams_total{reason}.
const (
	ReasonNoCertificate = "no_certificate" // no verified client certificate
	ReasonNodeID        = "node_id"        // node id is not an identity of the certificate
	ReasonLabels        = "labels"         // the policy does not allow these labels
)

// Denial is why an Authorizer refused a node.
type Denial struct {
	Reason string // one of the Reason constants
	Detail string
}

func (d *Denial) Error() string { return d.Detail }

// DenyReason is the metric label of the denial (the server's contract).
func (d *Denial) DenyReason() string { return d.Reason }

// Authorizer decides whether a stream's peer may speak for a node: the node
// id must be an identity of its verified client certificate and, with a
// policy, the node's labels must be allowed to that identity.
type Authorizer struct {
	policy *reloading[*Policy] // nil: any labels
}

// NewAuthorizer loads the policy file, which reloads on change; "" means
// no policy: the node id must match the certificate, and any labels go.
func NewAuthorizer(policyFile string, log *slog.Logger) (*Authorizer, error) {
	if policyFile == "" {
		return &Authorizer{}, nil
	}
	parse := func(c [][]byte) (*Policy, error) { return ParsePolicy(policyFile, c[0]) }
	attrs := func(p *Policy) []any { return []any{"entries", len(p.entries)} }
	r, err := newReloading("xDS authorization policy", []string{policyFile}, parse, attrs, log)
	if err != nil {
		return nil, err
	}
	return &Authorizer{policy: r}, nil
}

// Authorize returns nil when the peer of ctx may be node nodeID with these
// labels, else a *Denial.
func (a *Authorizer) Authorize(ctx context.Context, nodeID string, labels map[string]string) error {
	ids, err := PeerIdentities(ctx)
	if err != nil {
		return &Denial{Reason: ReasonNoCertificate, Detail: err.Error()}
	}
	if !slices.Contains(ids, nodeID) {
		detail := fmt.Sprintf("node id %q is not an identity of the client certificate (URI SANs, DNS SANs, CN: %s)", nodeID, quoteAll(ids))
		if uriShaped(nodeID) {
			detail += "; an id with a scheme is proved only by a URI SAN, never by a DNS SAN or the CN"
		}
		return &Denial{Reason: ReasonNodeID, Detail: detail}
	}
	if a.policy == nil {
		return nil
	}
	p := a.policy.get()
	if p.Allows(nodeID, labels) {
		return nil
	}
	m := p.Matching(nodeID)
	if len(m) == 0 {
		return &Denial{Reason: ReasonLabels, Detail: fmt.Sprintf("no entry of the xDS authorization policy matches identity %q", nodeID)}
	}
	allowed := make([]string, 0, len(m))
	for _, e := range m {
		allowed = append(allowed, fmt.Sprintf("%s (%s)", formatLabels(e.Labels), e.At))
	}
	return &Denial{Reason: ReasonLabels, Detail: fmt.Sprintf("identity %q may not claim labels %s; the xDS authorization policy allows it %s",
		nodeID, formatLabels(labels), strings.Join(allowed, " or "))}
}

func quoteAll(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
