package scalecfg

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// GatewayAPI writes the workload as Kubernetes Gateway API input for Envoy
// Gateway's `egctl x translate --from gateway-api --to xds`: a GatewayClass,
// Gateways gw-<k> of o.PerGateway HTTPS listeners on 443 (one per host,
// terminating with the wildcard certificate), one ClientTrafficPolicy
// requiring client certificates of the client CA on every Gateway, and an
// HTTPRoute and a Service per host. The certificate, key and CA are read
// from the PKI at secrets (see PKI).
func GatewayAPI(w io.Writer, o Options, secrets string) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	if o.Policies {
		return errors.New("the Gateway API workload has no per-host policies: write it without Policies")
	}
	crt, key, ca, err := readPKI(secrets)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: eg}\nspec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}\n")
	fmt.Fprintf(bw, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: edge}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: %s\n  tls.key: %s\n",
		CertName, base64.StdEncoding.EncodeToString(crt), base64.StdEncoding.EncodeToString(key))
	fmt.Fprintf(bw, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: edge}\ndata:\n  ca.crt: |\n", CAName)
	writeIndented(bw, ca, "    ")
	gateways := (o.Hosts + o.PerGateway - 1) / o.PerGateway
	for i := 0; i < o.Hosts; i++ {
		if i%o.PerGateway == 0 {
			fmt.Fprintf(bw, "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw-%d, namespace: edge}\nspec:\n  gatewayClassName: eg\n  listeners:\n", i/o.PerGateway)
		}
		fmt.Fprintf(bw, "  - name: h%d\n    protocol: HTTPS\n    port: 443\n    hostname: h%d.example.com\n    tls: {mode: Terminate, certificateRefs: [{kind: Secret, name: %s}]}\n", i, i, CertName)
	}
	fmt.Fprintf(bw, "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: ClientTrafficPolicy\nmetadata: {name: mtls, namespace: edge}\nspec:\n  targetRefs:\n")
	for k := 0; k < gateways; k++ {
		fmt.Fprintf(bw, "  - {group: gateway.networking.k8s.io, kind: Gateway, name: gw-%d}\n", k)
	}
	fmt.Fprintf(bw, "  tls:\n    clientValidation:\n      caCertificateRefs: [{kind: ConfigMap, group: \"\", name: %s}]\n", CAName)
	for i := 0; i < o.Hosts; i++ {
		writeRoute(bw, o, i)
		fmt.Fprintf(bw, "---\napiVersion: v1\nkind: Service\nmetadata: {name: web-%d, namespace: edge}\nspec:\n  clusterIP: 10.0.%d.%d\n  ports: [{name: http, port: 8080, protocol: TCP}]\n", i, i/250, i%250+1)
		if o.Routes == 2 {
			fmt.Fprintf(bw, "---\napiVersion: v1\nkind: Service\nmetadata: {name: api-%d, namespace: edge}\nspec:\n  clusterIP: 10.1.%d.%d\n  ports: [{name: http, port: 8080, protocol: TCP}]\n", i, i/250, i%250+1)
		}
	}
	return bw.Flush()
}

// writeRoute writes host i's HTTPRoute, with the routes of Istio's
// VirtualService.
func writeRoute(w io.Writer, o Options, i int) {
	fmt.Fprintf(w, "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: h%d, namespace: edge}\nspec:\n  parentRefs: [{name: gw-%d, sectionName: h%d}]\n  hostnames: [h%d.example.com]\n  rules:\n", i, i/o.PerGateway, i, i)
	if o.Routes == 2 {
		fmt.Fprintf(w, "  - matches: [{path: {type: PathPrefix, value: %s}}]\n    backendRefs: [{name: api-%d, port: 8080}]\n    timeouts: {request: 5s}\n", prefix(o, i), i)
	}
	fmt.Fprintf(w, "  - backendRefs: [{name: web-%d, port: 8080}]\n", i)
}

func writeIndented(w *bufio.Writer, b []byte, indent string) {
	start := true
	for _, c := range b {
		if start {
			w.WriteString(indent)
			start = false
		}
		w.WriteByte(c)
		if c == '\n' {
			start = true
		}
	}
	if !start {
		w.WriteByte('\n')
	}
}

// readPKI reads the wildcard certificate and key and the client CA.
func readPKI(secrets string) (crt, key, ca []byte, err error) {
	if crt, err = os.ReadFile(filepath.Join(secrets, CertName, "tls.crt")); err != nil {
		return nil, nil, nil, err
	}
	if key, err = os.ReadFile(filepath.Join(secrets, CertName, "tls.key")); err != nil {
		return nil, nil, nil, err
	}
	if ca, err = os.ReadFile(filepath.Join(secrets, CAName, "ca.crt")); err != nil {
		return nil, nil, nil, err
	}
	return crt, key, ca, nil
}
