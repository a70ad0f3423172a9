// Command gencfg writes the scale workload of docs/performance.md into a
// directory: istio.yaml (trustgate input), secrets/ (a development PKI with
// the wildcard certificate and the client CA) and, with -gateway-api,
// gatewayapi.yaml, the same workload as Gateway API input for Envoy
// Gateway's `egctl x translate`.
//
//	go run ./cmd/gencfg -hosts 1000 -dir /tmp/scale1000 -gateway-api
//	trustgate translate --config /tmp/scale1000/istio.yaml --secrets-dir /tmp/scale1000/secrets
//	egctl x translate --from gateway-api --to xds -t all -o json -f /tmp/scale1000/gatewayapi.yaml
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/trustgate/trustgate/internal/scalecfg"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gencfg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o scalecfg.Options
	dir := fs.String("dir", "", "directory to write into (created; must not hold a PKI already)")
	fs.IntVar(&o.Hosts, "hosts", 1000, "number of mTLS hosts")
	fs.IntVar(&o.PerGateway, "per-gateway", 50, "servers (listeners) per Gateway")
	fs.IntVar(&o.Routes, "routes", 1, "routes per host: 1 or 2")
	fs.IntVar(&o.Rev, "rev", 0, "revision of host 0's first route (a one-route edit)")
	fs.BoolVar(&o.Policies, "policies", false, "per host also a DestinationRule and ServiceEntry per backend, a ClientCertificatePolicy and an AuthorizationPolicy (not with -gateway-api)")
	gatewayAPI := fs.Bool("gateway-api", false, "also write gatewayapi.yaml for egctl x translate")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "Usage: gencfg -dir DIR [-hosts N] [-per-gateway 50] [-routes 1|2] [-rev N] [-policies | -gateway-api]")
		return 2
	}
	if err := os.MkdirAll(*dir, 0o750); err != nil {
		fmt.Fprintln(stderr, "gencfg:", err)
		return 1
	}
	if err := scalecfg.Write(*dir, o, *gatewayAPI); err != nil {
		fmt.Fprintln(stderr, "gencfg:", err)
		return 1
	}
	return 0
}
