package compile_test

import (
	"os"
	"path/filepath"
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

// TestAccessLogsFromMeshConfig runs Istio's mesh configuration through the
// whole pipeline: the access logs each setting gives the Envoy resources.
func TestAccessLogsFromMeshConfig(t *testing.T) {
	gateway := isolationCase{serverHosts: []string{"app.example.com"}, vsHosts: []string{"*"}, plain: true}.yaml()
	mesh := func(body string) string {
		return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n" + body
	}
	type logs struct{ listener443, hcm443, hcm80 string } // logger names, "" for none
	tests := map[string]struct {
		yaml string
		want logs
	}{
		"default":   {yaml: gateway, want: logs{"envoy.access_loggers.stdout", "envoy.access_loggers.stdout", "envoy.access_loggers.stdout"}},
		"off":       {yaml: gateway + mesh("    accessLogFile: \"\"\n")},
		"to a file": {yaml: gateway + mesh("    accessLogFile: /var/log/envoy.log\n    accessLogEncoding: TEXT\n"), want: logs{"envoy.access_loggers.file", "envoy.access_loggers.file", "envoy.access_loggers.file"}},
		"to stderr": {yaml: gateway + mesh("    accessLogFile: /dev/stderr\n"), want: logs{"envoy.access_loggers.stderr", "envoy.access_loggers.stderr", "envoy.access_loggers.stderr"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "case.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := compile.Load(model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{goldenPKI(t).Dir}}, compile.WithExpiryWarning(0))
			if err != nil {
				t.Fatal(err)
			}
			res, err := cfg.Compile(map[string]string{"istio": "ingressgateway"})
			if err != nil {
				t.Fatal(err)
			}
			v := newEnvoyView(res)
			got := logs{
				listener443: loggerName(v.listeners[443].GetAccessLog()),
				hcm443:      loggerName(hcmOf(t, v.chain(443, "app.example.com")).GetAccessLog()),
				hcm80:       loggerName(hcmOf(t, onlyChain(v.listeners[80])).GetAccessLog()),
			}
			if got != tc.want {
				t.Errorf("access loggers %+v, want %+v", got, tc.want)
			}
			if n := len(v.listeners[80].GetAccessLog()); n != 0 {
				t.Errorf("the plaintext port has %d listener access logs; it has no handshake to refuse", n)
			}
		})
	}
}

// loggerName is the name of the only access log, "" for none.
func loggerName(ls []*accesslogv3.AccessLog) string {
	if len(ls) != 1 {
		return ""
	}
	return ls[0].GetName()
}

func onlyChain(l *listenerv3.Listener) *listenerv3.FilterChain {
	if len(l.GetFilterChains()) != 1 {
		return nil
	}
	return l.GetFilterChains()[0]
}
