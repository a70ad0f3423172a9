package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/trustgate/trustgate/xds/envoymodel"
)

// JSON writes the trace as one JSON object.
func JSON(w io.Writer, t *envoymodel.Trace) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}

// Text writes the trace as a person reads it: what Envoy did, step by
// step, then the outcome and what reaches the backend.
func Text(w io.Writer, t *envoymodel.Trace) error {
	var b strings.Builder
	for _, s := range t.Steps {
		fmt.Fprintf(&b, "%-13s %s\n", s.Stage, s.Text)
	}
	if len(t.Steps) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "verdict: %s", t.Verdict)
	if t.Status != 0 {
		fmt.Fprintf(&b, " %d", t.Status)
	}
	fmt.Fprintf(&b, "\n  %s\n", t.Reason)
	writeField(&b, "listener", t.Listener)
	writeField(&b, "filter chain", t.FilterChain)
	if t.Peer.TLS {
		writeField(&b, "client certificate", certText(t))
	}
	writeField(&b, "route", t.Route)
	for _, p := range t.Policies {
		fmt.Fprintf(&b, "  policy: %s\n", policyLine(p))
	}
	writeField(&b, "location", t.Location)
	if t.Body != "" {
		fmt.Fprintf(&b, "  body: %q\n", t.Body)
	}
	for _, c := range t.Clusters {
		writeCluster(&b, c, len(t.Clusters) > 1)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeField writes "  name: value" when value is set.
func writeField(b *strings.Builder, name, value string) {
	if value != "" {
		fmt.Fprintf(b, "  %s: %s\n", name, value)
	}
}

// certText describes the client certificate.
func certText(t *envoymodel.Trace) string {
	s := string(t.ClientCertificate)
	if t.Peer.Subject != "" {
		s += " (" + t.Peer.Subject + ")"
	}
	if t.Peer.Resumed {
		s += ", resumed session: Envoy reports it not validated"
	}
	return s
}

// policyLine renders one RBAC decision.
func policyLine(p envoymodel.PolicyDecision) string {
	out := "denied"
	if p.Allowed {
		out = "allowed"
	}
	pol := "no policy matched"
	if p.Policy != "" {
		pol = fmt.Sprintf("policy %q matched", p.Policy)
	}
	extra := ""
	if p.Shadow {
		extra += " (shadow, not enforced)"
	}
	if p.PerRoute {
		extra += " (the route's RBACPerRoute)"
	}
	return fmt.Sprintf("%s %s: %s, %s%s", p.Filter, p.Action, pol, out, extra)
}

// writeCluster writes one cluster choice and its upstream headers.
func writeCluster(b *strings.Builder, c envoymodel.ClusterChoice, weighted bool) {
	fmt.Fprintf(b, "  cluster: %s", c.Name)
	if weighted {
		fmt.Fprintf(b, " (weight %d)", c.Weight)
	}
	if c.Missing {
		b.WriteString(" (does not exist)")
	}
	b.WriteString("\n")
	if u := c.UpstreamTLS; u != nil {
		verify := "the backend's certificate is not verified (no trusted CA)"
		if u.Verified {
			verify = "the backend's certificate is verified"
			if len(u.SANs) > 0 {
				verify += ", SAN " + strings.Join(u.SANs, " or ")
			}
		}
		fmt.Fprintf(b, "    upstream TLS: SNI %q; %s\n", u.SNI, verify)
	}
	if len(c.UpstreamHeaders) == 0 {
		return
	}
	b.WriteString("    headers sent upstream:\n")
	names := make([]string, 0, len(c.UpstreamHeaders))
	for n := range c.UpstreamHeaders {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(b, "      %s: %s\n", n, c.UpstreamHeaders[n])
	}
}
