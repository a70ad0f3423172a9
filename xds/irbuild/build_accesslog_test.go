package irbuild

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/xds/ir"
)

// TestAccessLogs checks where access logs go and with what settings: every
// HTTP chain logs requests and every TLS port refused connections, to
// /dev/stdout as JSON unless Istio's mesh configuration says otherwise.
func TestAccessLogs(t *testing.T) {
	mesh := func(body string) string {
		return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n" + body
	}
	plainHTTP := `  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
`
	base := gatewayHeader + namedTLS + plainHTTP + inspectorVS
	type where struct {
		Listener, Chain string
		Log             *ir.AccessLog
	}
	stdout := &ir.AccessLog{Path: "/dev/stdout", Encoding: ir.AccessLogJSON}
	tests := map[string]struct {
		yaml string
		log  *ir.AccessLog // on every HTTP chain and the TLS listener
	}{
		"on by default":      {yaml: base, log: stdout},
		"an empty file: off": {yaml: base + mesh("    accessLogFile: \"\"\n")},
		"a file, as text": {
			yaml: base + mesh("    accessLogFile: /var/log/envoy.log\n    accessLogEncoding: TEXT\n    accessLogFormat: \"%RESPONSE_CODE%\"\n"),
			log:  &ir.AccessLog{Path: "/var/log/envoy.log", Encoding: ir.AccessLogText, Text: "%RESPONSE_CODE%"},
		},
		"the user's JSON fields": {
			yaml: base + mesh("    accessLogFormat: '{\"code\": \"%RESPONSE_CODE%\"}'\n"),
			log:  &ir.AccessLog{Path: "/dev/stdout", Encoding: ir.AccessLogJSON, JSON: map[string]string{"code": "%RESPONSE_CODE%"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := Build(loadYAML(t, tc.yaml), ingress)
			if err != nil {
				t.Fatal(err)
			}
			var got []where
			inspected := map[uint32]bool{}
			for _, l := range p.Listeners {
				inspected[l.Port] = l.TLSInspector
				got = append(got, where{Listener: l.Name, Log: l.AccessLog})
				for _, c := range l.Chains {
					got = append(got, where{Listener: l.Name, Chain: c.Name, Log: c.HTTP.AccessLog})
				}
			}
			want := []where{
				{Listener: "listener_80", Log: nil}, // plaintext: no handshake to refuse
				{Listener: "listener_80", Chain: "80/http", Log: tc.log},
				{Listener: "listener_443", Log: tc.log},
				{Listener: "listener_443", Chain: "443/gw.gw.0", Log: tc.log},
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("access logs (-want +got):\n%s", d)
			}
			if inspected[443] != (tc.log != nil) || inspected[80] {
				t.Errorf("tls_inspector on ports %v; want it on 443 exactly when logs are on (the port's default server matches no SNI)", inspected)
			}
		})
	}
}
