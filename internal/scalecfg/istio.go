package scalecfg

import (
	"bufio"
	"fmt"
	"io"
)

// Istio writes the workload as trustgate input: Gateways edge/gw-<k> of
// o.PerGateway MUTUAL servers each, and a VirtualService edge/h<i> per host.
func Istio(w io.Writer, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	for i := 0; i < o.Hosts; i++ {
		if i%o.PerGateway == 0 {
			if i > 0 {
				bw.WriteString("---\n")
			}
			fmt.Fprintf(bw, "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw-%d, namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n", i/o.PerGateway)
		}
		fmt.Fprintf(bw, "  - name: h%d\n    port: {number: 443, name: https-%d, protocol: HTTPS}\n    hosts: [h%d.example.com]\n    tls: {mode: MUTUAL, credentialName: %s, caCertCredentialName: %s}\n", i, i, i, CertName, CAName)
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
	return bw.Flush()
}

// prefix is host i's /api prefix; host 0's carries the revision.
func prefix(o Options, i int) string {
	if i == 0 && o.Rev > 0 {
		return fmt.Sprintf("/api-r%d", o.Rev)
	}
	return "/api"
}
