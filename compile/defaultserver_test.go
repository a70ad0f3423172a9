package compile_test

import (
	"fmt"
	"testing"
)

// TestDefaultServer runs the port's lone TLS server through the model of
// Envoy's choices: a client without SNI, or with an SNI the server does not
// name, lands on its chain, and there Host still decides: the server's own
// hosts route, any other Host (an IP, another name) gets the 421. With two
// servers on the port, a client without SNI matches no chain, as before.
func TestDefaultServer(t *testing.T) {
	tests := map[string]struct {
		servers    []string
		noSNIChain bool
	}{
		"one server is the default": {servers: []string{"localhost"}, noSNIChain: true},
		"two servers, no default":   {servers: []string{"localhost", "admin.example.com"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := isolationCase{serverHosts: tc.servers, vsHosts: []string{"*"}}
			v := newEnvoyView(c.translate(t))
			own := v.chain(443, "localhost")
			if own == nil {
				t.Fatal("SNI localhost matches no chain")
			}
			for _, sni := range []string{"", "127.0.0.1", "other.org"} {
				fc := v.chain(443, sni)
				switch {
				case !tc.noSNIChain && fc != nil && sni == "":
					t.Errorf("no SNI lands on %s; with two servers it must match none", fc.GetName())
				case tc.noSNIChain && fc != own:
					t.Errorf("SNI %q lands on %v, want the only server's chain %s", sni, fc.GetName(), own.GetName())
				}
				if fc == nil {
					continue
				}
				h, rc := v.routeConfig(t, fc)
				for host, want := range map[string]bool{
					"localhost": true, "localhost:443": true, "LOCALHOST": true,
					"127.0.0.1": false, "127.0.0.1:443": false, "[::1]:443": false, "other.org": false,
				} {
					vh := virtualHost(h, rc, host)
					if got := vh != nil && forwards(vh); got != want {
						t.Errorf("SNI %q, Host %q: routed = %v, want %v (virtual host %s)", sni, host, got, want, fmt.Sprint(vh.GetName()))
					}
				}
			}
		})
	}
}
