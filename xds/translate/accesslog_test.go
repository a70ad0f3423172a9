package translate

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	celv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/trustgate/trustgate/internal/envoyfmt"
	"github.com/trustgate/trustgate/xds/ir"
	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

func stdoutLog(t *testing.T, f *corev3.SubstitutionFormatString, filter *accesslogv3.AccessLogFilter) *accesslogv3.AccessLog {
	return &accesslogv3.AccessLog{Name: "envoy.access_loggers.stdout", Filter: filter, ConfigType: &accesslogv3.AccessLog_TypedConfig{
		TypedConfig: mustAny(t, &streamv3.StdoutAccessLog{AccessLogFormat: &streamv3.StdoutAccessLog_LogFormat{LogFormat: f}}),
	}}
}

func TestRequestAccessLogs(t *testing.T) {
	tests := map[string]struct {
		in   *ir.AccessLog
		want func(t *testing.T) []*accesslogv3.AccessLog
	}{
		"off": {in: nil, want: func(*testing.T) []*accesslogv3.AccessLog { return nil }},
		"trustgate's JSON to stdout": {
			in: &ir.AccessLog{Path: "/dev/stdout", Encoding: ir.AccessLogJSON},
			want: func(t *testing.T) []*accesslogv3.AccessLog {
				return []*accesslogv3.AccessLog{stdoutLog(t, jsonFormat(requestLogJSON), nil)}
			},
		},
		"the user's JSON to stderr": {
			in: &ir.AccessLog{Path: "/dev/stderr", Encoding: ir.AccessLogJSON, JSON: map[string]string{"code": "%RESPONSE_CODE%"}},
			want: func(t *testing.T) []*accesslogv3.AccessLog {
				return []*accesslogv3.AccessLog{{Name: "envoy.access_loggers.stderr", ConfigType: &accesslogv3.AccessLog_TypedConfig{
					TypedConfig: mustAny(t, &streamv3.StderrAccessLog{AccessLogFormat: &streamv3.StderrAccessLog_LogFormat{
						LogFormat: jsonFormat(map[string]string{"code": "%RESPONSE_CODE%"}),
					}}),
				}}}
			},
		},
		"trustgate's text to a file": {
			in: &ir.AccessLog{Path: "/var/log/envoy.log", Encoding: ir.AccessLogText},
			want: func(t *testing.T) []*accesslogv3.AccessLog {
				return []*accesslogv3.AccessLog{{Name: "envoy.access_loggers.file", ConfigType: &accesslogv3.AccessLog_TypedConfig{
					TypedConfig: mustAny(t, &filev3.FileAccessLog{Path: "/var/log/envoy.log", AccessLogFormat: &filev3.FileAccessLog_LogFormat{
						LogFormat: textFormat(requestLogText),
					}}),
				}}}
			},
		},
		"the user's text gets its newline": {
			in: &ir.AccessLog{Path: "/dev/stdout", Encoding: ir.AccessLogText, Text: "%RESPONSE_CODE%"},
			want: func(t *testing.T) []*accesslogv3.AccessLog {
				return []*accesslogv3.AccessLog{stdoutLog(t, &corev3.SubstitutionFormatString{
					Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: inlineString("%RESPONSE_CODE%\n")},
				}, nil)}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := requestAccessLogs(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want(t)
			if len(got) != len(want) {
				t.Fatalf("%d access logs, want %d", len(got), len(want))
			}
			for i := range want {
				diffProto(t, want[i], got[i])
			}
		})
	}
}

// TestConnectionAccessLogs checks the listener's log: trustgate's connection
// fields whatever the request format, and the filter that keeps only
// connections the connection manager never saw.
func TestConnectionAccessLogs(t *testing.T) {
	filter := &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_OrFilter{OrFilter: &accesslogv3.OrFilter{
		Filters: []*accesslogv3.AccessLogFilter{
			{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: []string{"NR"}}}},
			{FilterSpecifier: &accesslogv3.AccessLogFilter_ExtensionFilter{ExtensionFilter: &accesslogv3.ExtensionFilter{
				Name: "envoy.access_loggers.extension_filters.cel",
				ConfigType: &accesslogv3.ExtensionFilter_TypedConfig{TypedConfig: mustAny(t,
					&celv3.ExpressionFilter{Expression: "connection.transport_failure_reason != ''"})},
			}}},
		},
	}}}
	tests := map[string]struct {
		in   *ir.AccessLog
		want []*accesslogv3.AccessLog
	}{
		"off":  {in: nil},
		"JSON": {in: &ir.AccessLog{Path: "/dev/stdout", Encoding: ir.AccessLogJSON, JSON: map[string]string{"c": "%RESPONSE_CODE%"}}, want: []*accesslogv3.AccessLog{stdoutLog(t, jsonFormat(connectionLogJSON), filter)}},
		"text": {in: &ir.AccessLog{Path: "/dev/stdout", Encoding: ir.AccessLogText, Text: "%RESPONSE_CODE%"}, want: []*accesslogv3.AccessLog{stdoutLog(t, textFormat(connectionLogText), filter)}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := connectionAccessLogs(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d access logs, want %d", len(got), len(tc.want))
			}
			for i := range tc.want {
				diffProto(t, tc.want[i], got[i])
			}
		})
	}
}

// commandRE finds the %COMMAND% of a format value.
var commandRE = regexp.MustCompile(`%[A-Z0-9_]+(\([^)]*\))?%`)

func commandsOf(values ...string) []string {
	set := map[string]bool{}
	for _, v := range values {
		for _, c := range commandRE.FindAllString(v, -1) {
			set[c] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// TestDefaultLogFormats checks trustgate's formats: every command is one
// Envoy knows, the request entry has every field issue 14 asks for, the
// connection entry the handshake failure, peer and SNI, and the text lines
// carry the same commands as the JSON entries.
func TestDefaultLogFormats(t *testing.T) {
	for _, v := range append(append(slices.Collect(maps.Values(requestLogJSON)), slices.Collect(maps.Values(connectionLogJSON))...), requestLogText, connectionLogText) {
		if err := envoyfmt.Check(v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	musts := map[string]struct {
		fields map[string]string
		want   []string
	}{
		"request": {requestLogJSON, []string{
			"%DOWNSTREAM_PEER_SUBJECT%", "%DOWNSTREAM_PEER_ISSUER%", "%DOWNSTREAM_PEER_URI_SAN%", "%DOWNSTREAM_PEER_SERIAL%",
			"%DOWNSTREAM_PEER_FINGERPRINT_256%", "%REQUESTED_SERVER_NAME%", "%DOWNSTREAM_TLS_VERSION%", "%DOWNSTREAM_TLS_CIPHER%",
			"%RESPONSE_FLAGS%", "%RESPONSE_CODE_DETAILS%", "%UPSTREAM_HOST%", "%UPSTREAM_CLUSTER%", "%RESPONSE_CODE%",
			"%START_TIME%", "%REQ(:METHOD)%", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", "%PROTOCOL%", "%DURATION%",
		}},
		"connection": {connectionLogJSON, []string{"%DOWNSTREAM_TRANSPORT_FAILURE_REASON%", "%DOWNSTREAM_REMOTE_ADDRESS%", "%REQUESTED_SERVER_NAME%"}},
	}
	for name, m := range musts {
		have := commandsOf(slices.Collect(maps.Values(m.fields))...)
		for _, c := range m.want {
			if !slices.Contains(have, c) {
				t.Errorf("%s entry lacks %s", name, c)
			}
		}
	}
	pairs := map[string][2][]string{
		"request":    {commandsOf(slices.Collect(maps.Values(requestLogJSON))...), commandsOf(requestLogText)},
		"connection": {commandsOf(slices.Collect(maps.Values(connectionLogJSON))...), commandsOf(connectionLogText)},
	}
	for name, p := range pairs {
		if !slices.Equal(p[0], p[1]) {
			t.Errorf("%s: the JSON entry's commands %v and the text line's %v differ", name, p[0], p[1])
		}
	}
}

// TestAccessLogsInResources checks where the rich fixture's logs land: on
// the HTTPS listener (refused connections) and on each connection manager
// that has one, and that Check looks into access-log formats.
func TestAccessLogsInResources(t *testing.T) {
	r := rich(t)
	l := find(t, r.Listeners, ir.ListenerName(443))
	if len(l.GetAccessLog()) != 1 || l.GetAccessLog()[0].GetFilter().GetOrFilter() == nil {
		t.Errorf("HTTPS listener access log %v, want one with the refused-connection filter", l.GetAccessLog())
	}
	if n := len(find(t, r.Listeners, ir.ListenerName(80)).GetAccessLog()); n != 0 {
		t.Errorf("plain HTTP listener has %d listener access logs; it refuses no handshake", n)
	}
	var logged []string
	for _, ls := range r.Listeners {
		for _, fc := range ls.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				m := &hcmv3.HttpConnectionManager{}
				if f.GetTypedConfig().MessageIs(m) {
					if err := f.GetTypedConfig().UnmarshalTo(m); err != nil {
						t.Fatal(err)
					}
					if len(m.GetAccessLog()) > 0 {
						logged = append(logged, fc.GetName())
					}
				}
			}
		}
	}
	want := []string{ir.ChainName(80, "http"), ir.ChainName(443, "edge.gw.0")}
	slices.Sort(logged)
	slices.Sort(want)
	if !slices.Equal(logged, want) {
		t.Errorf("chains logging requests %v, want %v", logged, want)
	}
}

// TestCheckAccessLogFormat catches an unknown command in an access-log
// format, which Envoy would reject with the listener.
func TestCheckAccessLogFormat(t *testing.T) {
	p := translatetest.RichProxy()
	p.Listeners[1].AccessLog = &ir.AccessLog{Path: "/dev/stdout", Encoding: ir.AccessLogJSON}
	r, err := Translate(p)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := requestAccessLogs(&ir.AccessLog{Path: "/dev/stdout", Encoding: ir.AccessLogText, Text: "%PEER_NICKNAME%"})
	if err != nil {
		t.Fatal(err)
	}
	find(t, r.Listeners, ir.ListenerName(443)).AccessLog = bad
	err = Check(r)
	if err == nil || !strings.Contains(err.Error(), "access log format") || !strings.Contains(err.Error(), "%PEER_NICKNAME%") {
		t.Errorf("Check = %v, want the unknown command of the access log format", err)
	}
}

// readmeLine finds the README's illustrative access-log line that follows
// marker.
func readmeLine(t *testing.T, readme, marker string) map[string]any {
	t.Helper()
	i := strings.Index(readme, marker)
	if i < 0 {
		t.Fatalf("README has no %q", marker)
	}
	rest := readme[i:]
	start := strings.Index(rest, "\n{")
	end := strings.Index(rest[start+1:], "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(rest[start+1:start+1+end]), &m); err != nil {
		t.Fatalf("README line after %q is not JSON: %v", marker, err)
	}
	return m
}

// TestReadmeLogLines checks that the README's example lines of an accepted
// and a refused client have exactly the fields of trustgate's formats.
func TestReadmeLogLines(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for marker, fields := range map[string]map[string]string{
		"<!-- access log: accepted request -->":   requestLogJSON,
		"<!-- access log: refused connection -->": connectionLogJSON,
	} {
		line := readmeLine(t, readme, marker)
		if got, want := slices.Sorted(maps.Keys(line)), slices.Sorted(maps.Keys(fields)); !slices.Equal(got, want) {
			t.Errorf("%s: README fields %v, want %v", marker, got, want)
		}
		if line["event"] != fields["event"] {
			t.Errorf("%s: event %v, want %q", marker, line["event"], fields["event"])
		}
	}
}

// TestAccessLogMemoKeysEveryField: the logger's typed config is packed once
// per content of the IR access log (toAnyOnce); access logs that differ in
// any field get their own, whichever was packed first.
func TestAccessLogMemoKeysEveryField(t *testing.T) {
	logs := map[string]*ir.AccessLog{
		"json default":     {Path: "/dev/stdout", Encoding: ir.AccessLogJSON},
		"json other path":  {Path: "/var/log/a.log", Encoding: ir.AccessLogJSON},
		"json fields":      {Path: "/dev/stdout", Encoding: ir.AccessLogJSON, JSON: map[string]string{"a": "%PROTOCOL%"}},
		"json other value": {Path: "/dev/stdout", Encoding: ir.AccessLogJSON, JSON: map[string]string{"a": "%DURATION%"}},
		"text default":     {Path: "/dev/stdout", Encoding: ir.AccessLogText},
		"text own":         {Path: "/dev/stdout", Encoding: ir.AccessLogText, Text: "%PROTOCOL%"},
		"text other":       {Path: "/dev/stdout", Encoding: ir.AccessLogText, Text: "%DURATION%"},
	}
	seen := map[string]string{}
	for range 2 { // the second round takes every config from the memo
		for name, a := range logs {
			got, err := requestAccessLogs(a)
			if err != nil {
				t.Fatal(err)
			}
			b := string(got[0].GetTypedConfig().GetValue())
			for other, ob := range seen {
				if other != name && ob == b {
					t.Errorf("%s and %s share one typed config", name, other)
				}
			}
			seen[name] = b
		}
	}
}
