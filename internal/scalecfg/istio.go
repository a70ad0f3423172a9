package scalecfg

import (
	"bufio"
	"fmt"
	"io"
)

// Istio writes the workload as trustgate input: Gateways edge/gw-<k> of
// o.PerGateway MUTUAL servers each, and a VirtualService edge/h<i> per host
// (with o.Policies, each host's policies and backends after them).
func Istio(w io.Writer, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	ca := ", caCertCredentialName: " + CAName
	if o.Policies {
		ca = "" // each host's ClientCertificatePolicy names it
	}
	bw := bufio.NewWriter(w)
	for i := 0; i < o.Hosts; i++ {
		if i%o.PerGateway == 0 {
			if i > 0 {
				bw.WriteString("---\n")
			}
			fmt.Fprintf(bw, "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw-%d, namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n", i/o.PerGateway)
		}
		fmt.Fprintf(bw, "  - name: h%d\n    port: {number: 443, name: https-%d, protocol: HTTPS}\n    hosts: [h%d.example.com]\n    tls: {mode: MUTUAL, credentialName: %s%s}\n", i, i, i, CertName, ca)
	}
	for i := 0; i < o.Hosts; i++ {
		fmt.Fprintf(bw, "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: h%d, namespace: edge}\nspec:\n  hosts: [h%d.example.com]\n  gateways: [gw-%d]\n  http:\n", i, i, i/o.PerGateway)
		if o.Routes == 2 {
			fmt.Fprintf(bw, "  - match: [{uri: {prefix: %s}}]\n    route: [{destination: {host: api-%d.internal, port: {number: 8080}}}]\n    timeout: 5s\n", prefix(o, i), i)
			fmt.Fprintf(bw, "  - route: [{destination: {host: web-%d.internal, port: {number: 8080}}}]\n", i)
			continue
		}
		fmt.Fprintf(bw, "  - route: [{destination: {host: web-%d.internal, port: {number: 8080}}}]\n", i)
		if i == 0 && o.Rev > 0 {
			fmt.Fprintf(bw, "    headers: {request: {set: {x-rev: \"%d\"}}}\n", o.Rev)
		}
	}
	if o.Policies {
		writePolicies(bw, o)
	}
	return bw.Flush()
}

// writePolicies writes each host's backends (a DestinationRule and a
// ServiceEntry for each) and the two policies naming its server.
func writePolicies(bw *bufio.Writer, o Options) {
	for i := 0; i < o.Hosts; i++ {
		backends := []string{fmt.Sprintf("web-%d", i)}
		if o.Routes == 2 {
			backends = append(backends, fmt.Sprintf("api-%d", i))
		}
		for _, be := range backends {
			fmt.Fprintf(bw, "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: %s, namespace: edge}\nspec:\n  host: %s.internal\n  trafficPolicy: {connectionPool: {tcp: {maxConnections: 100}}}\n", be, be)
			fmt.Fprintf(bw, "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: %s, namespace: edge}\nspec:\n  hosts: [%s.internal]\n  ports: [{number: 8080, name: http, protocol: HTTP}]\n  resolution: DNS\n  location: MESH_EXTERNAL\n", be, be)
		}
		ref := fmt.Sprintf("{group: networking.istio.io, kind: Gateway, name: gw-%d, sectionName: h%d}", i/o.PerGateway, i)
		fmt.Fprintf(bw, "---\napiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: h%d, namespace: edge}\nspec:\n  targetRef: %s\n  clientCA: %s\n  authorization:\n    allow:\n    - {name: team, commonName: [{exact: client-%d}]}\n", i, ref, CAName, i)
		fmt.Fprintf(bw, "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: h%d, namespace: edge}\nspec:\n  targetRefs: [%s]\n  action: DENY\n  rules:\n  - to: [{operation: {paths: [\"/admin*\"]}}]\n", i, ref)
	}
}

// prefix is host i's /api prefix; host 0's carries the revision.
func prefix(o Options, i int) string {
	if i == 0 && o.Rev > 0 {
		return fmt.Sprintf("/api-r%d", o.Rev)
	}
	return "/api"
}
