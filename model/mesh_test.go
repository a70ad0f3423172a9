package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// meshDoc is the istio ConfigMap with mesh holding body (indented by the
// caller's lines).
func meshDoc(body string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n" + body
}

func TestMeshConfig(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := map[string]struct {
		yaml         string
		want         *MeshConfig // From is not compared
		wantErrs     []string    // Load and Validate
		wantWarnings []string
	}{
		"no mesh configuration": {yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n"},
		"access logs to a file, as text": {
			yaml: meshDoc("    accessLogFile: /var/log/envoy.log\n    accessLogEncoding: TEXT\n    accessLogFormat: \"%START_TIME% %RESPONSE_CODE%\\n\"\n"),
			want: &MeshConfig{AccessLogFile: str("/var/log/envoy.log"), AccessLogEncoding: "TEXT", AccessLogFormat: "%START_TIME% %RESPONSE_CODE%\n"},
		},
		"access logs off": {
			yaml: meshDoc("    accessLogFile: \"\"\n"),
			want: &MeshConfig{AccessLogFile: str("")},
		},
		"a JSON format": {
			yaml: meshDoc("    accessLogFormat: '{\"code\": \"%RESPONSE_CODE%\", \"sni\": \"%REQUESTED_SERVER_NAME%\"}'\n"),
			want: &MeshConfig{AccessLogFormat: `{"code": "%RESPONSE_CODE%", "sni": "%REQUESTED_SERVER_NAME%"}`},
		},
		"other MeshConfig fields and keys are read past, with one warning each": {
			yaml: meshDoc("    accessLogFile: /dev/stdout\n    trustDomain: cluster.local\n    defaultConfig:\n      holdApplicationUntilProxyStarts: true\n") +
				"  meshNetworks: 'networks: {}'\n",
			want: &MeshConfig{AccessLogFile: str("/dev/stdout")},
			wantWarnings: []string{
				"case.yaml:4: ConfigMap istio-system/istio: data: keys meshNetworks are not read: trustgate reads key \"mesh\"",
				"case.yaml:5: ConfigMap istio-system/istio: data.mesh: MeshConfig fields trustDomain, defaultConfig are not read: trustgate reads accessLogFile, accessLogEncoding, accessLogFormat",
			},
		},
		"a typo of a field trustgate reads is an error, at its line": {
			yaml:     meshDoc("    accessLogFile: /dev/stdout\n    accesLogEncoding: TEXT\n"),
			want:     &MeshConfig{AccessLogFile: str("/dev/stdout")},
			wantErrs: []string{`case.yaml:7: ConfigMap istio-system/istio: data.mesh.accesLogEncoding: unknown field "accesLogEncoding" (did you mean "accessLogEncoding"?)`},
		},
		"an encoding Istio does not have": {
			yaml:     meshDoc("    accessLogEncoding: YAML\n"),
			want:     &MeshConfig{AccessLogEncoding: "YAML"},
			wantErrs: []string{`case.yaml:6: ConfigMap istio-system/istio: data.mesh.accessLogEncoding: accessLogEncoding "YAML": want TEXT or JSON`},
		},
		"an unknown formatter command in a text format": {
			yaml:     meshDoc("    accessLogEncoding: TEXT\n    accessLogFormat: \"%RESPONSE_CODE% %PEER_SUBJECT%\"\n"),
			want:     &MeshConfig{AccessLogEncoding: "TEXT", AccessLogFormat: "%RESPONSE_CODE% %PEER_SUBJECT%"},
			wantErrs: []string{`case.yaml:7: ConfigMap istio-system/istio: data.mesh.accessLogFormat: unknown formatter command %PEER_SUBJECT%`},
		},
		"a JSON format that is not an object of text": {
			yaml:     meshDoc("    accessLogFormat: '{\"code\": 200}'\n"),
			want:     &MeshConfig{AccessLogFormat: `{"code": 200}`},
			wantErrs: []string{`case.yaml:6: ConfigMap istio-system/istio: data.mesh.accessLogFormat: field "code": values must be text (with %COMMAND%s), not float64`},
		},
		"an unknown command in a JSON format": {
			yaml:     meshDoc("    accessLogFormat: '{\"x\": \"%NOPE%\"}'\n"),
			want:     &MeshConfig{AccessLogFormat: `{"x": "%NOPE%"}`},
			wantErrs: []string{`case.yaml:6: ConfigMap istio-system/istio: data.mesh.accessLogFormat: field "x": unknown formatter command %NOPE%`},
		},
		"another ConfigMap is reported, not read": {
			yaml:         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config, namespace: web}\ndata: {a: b}\n",
			wantWarnings: []string{"case.yaml:1: ConfigMap web/app-config: not read: the only ConfigMap trustgate reads is istio-system/istio, Istio's mesh configuration"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"case.yaml": tc.yaml})
			cfg, err := LoadAndValidate(LoadOptions{Paths: []string{dir + "/case.yaml"}})
			if d := cmp.Diff(tc.wantErrs, errorLines(err, dir)); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
			var warnings []string
			for _, w := range cfg.Warnings {
				if !w.Warning {
					t.Errorf("%v is not marked a warning", w)
				}
				warnings = append(warnings, strings.TrimPrefix(w.Error(), dir+"/"))
			}
			if d := cmp.Diff(tc.wantWarnings, warnings); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
			got := cfg.Mesh
			if got != nil {
				got = &MeshConfig{AccessLogFile: got.AccessLogFile, AccessLogEncoding: got.AccessLogEncoding, AccessLogFormat: got.AccessLogFormat}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("mesh (-want +got):\n%s", d)
			}
		})
	}
}
