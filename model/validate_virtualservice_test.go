package model

import (
	"strings"
	"testing"
)

// vsDoc is a VirtualService default/vs whose spec starts on line 5,
// followed by a valid Gateway default/gw.
func vsDoc(spec string) string {
	return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\nspec:\n" + spec +
		"---\n" + gwDoc(tlsServer("      mode: MUTUAL\n      credentialName: gw-cred\n"))
}

// httpVS is a VirtualService bound to gw with one http route whose lines
// (indented four spaces under "  - ") start on line 8.
func httpVS(route string) string {
	return vsDoc("  hosts: [a.example.com]\n  gateways: [gw]\n  http:\n" + route)
}

// okRoute is a route field of an http entry; okHTTP a whole http entry.
const (
	okRoute = "    route: [{destination: {host: backend}}]\n"
	okHTTP  = "  - route: [{destination: {host: backend}}]\n"
)

func TestValidateVirtualService(t *testing.T) {
	validateCases(t, map[string]validateCase{
		"a full route": {
			yaml: httpVS("  - name: r\n    match:\n    - uri: {prefix: /api}\n      method: {exact: GET}\n      headers:\n        x-present: {}\n        x-re: {regex: \"v[0-9]+\"}\n      queryParams: {q: {exact: \"1\"}}\n      withoutHeaders: {x-debug: {}}\n" +
				"    route:\n    - destination: {host: a, port: {number: 8000}}\n      weight: 80\n    - destination: {host: b, subset: v2}\n      weight: 20\n" +
				"    rewrite: {uriRegexRewrite: {match: ^/api/(.*), rewrite: /\\1}}\n    timeout: 10s\n    retries: {attempts: 3, perTryTimeout: 500ms}\n" +
				"    corsPolicy: {allowOrigins: [{exact: https://a.example.com}], maxAge: 1h}\n" +
				"    headers:\n      request:\n        set: {x-client-subject: \"%DOWNSTREAM_PEER_SUBJECT%\", x-when: \"%START_TIME(%Y-%m-%d)%\", x-pct: \"100%%\", x-trunc: \"%REQ(x-a):10%\", \":authority\": b.example.com}\n        remove: [x-remove]\n"),
		},
		"istio's presence regex and zero timeout": {
			yaml: httpVS("  - match:\n    - headers: {x-tenant: {regex: \"*\"}}\n" + okRoute + "    timeout: 0s\n"),
		},
		"gateway reference forms": {
			yaml: vsDoc("  hosts: [a.example.com]\n  gateways: [gw, default/gw, gw.default.svc.cluster.local, mesh]\n  http:\n" + okHTTP),
		},
		"no routes": {
			yaml: vsDoc("  hosts: [a.example.com]\n"),
			want: []string{"case.yaml:4: VirtualService default/vs: spec: at least one of http, tls or tcp routes is required"},
		},
		"hosts": {
			yaml: vsDoc("  gateways: [gw]\n  http:\n"+okHTTP) + "---\n" +
				"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: tcp-only}\nspec:\n  gateways: [gw]\n  tcp:\n  - route: [{destination: {host: db}}]\n",
			want: []string{"case.yaml:4: VirtualService default/vs: spec.hosts: at least one host is required (only tcp-only VirtualServices may omit hosts)"},
		},
		"gateway not found": {
			yaml: vsDoc("  hosts: [a.example.com]\n  gateways: [gww, other/gw]\n  http:\n" + okHTTP),
			want: []string{
				`case.yaml:6: VirtualService default/vs: spec.gateways[0]: gateway "gww" (default/gww) not found (did you mean "default/gw"?)`,
				`case.yaml:6: VirtualService default/vs: spec.gateways[1]: gateway "other/gw" not found`,
			},
		},
		"route, redirect and directResponse": {
			yaml: httpVS("  - redirect: {uri: /b}\n" + okRoute + "  - name: nothing\n"),
			want: []string{
				"case.yaml:8: VirtualService default/vs: spec.http[0]: exactly one of route, redirect and directResponse is required",
				"case.yaml:10: VirtualService default/vs: spec.http[1]: exactly one of route, redirect and directResponse is required",
			},
		},
		"redirect uri and prefixRewrite": {
			yaml: httpVS("  - redirect: {uri: /a, prefixRewrite: /b/}\n"),
			want: []string{"case.yaml:8: VirtualService default/vs: spec.http[0].redirect: set only one of uri and prefixRewrite"},
		},
		"weights": {
			yaml: httpVS("  - route:\n    - destination: {host: a}\n      weight: 50\n    - destination: {host: b}\n      weight: 40\n  - route:\n    - destination: {host: a}\n      weight: -10\n    - destination: {}\n      weight: 110\n"),
			want: []string{
				"case.yaml:8: VirtualService default/vs: spec.http[0].route: weights of 2 destinations sum to 90; they must sum to 100",
				"case.yaml:15: VirtualService default/vs: spec.http[1].route[0].weight: weight must not be negative",
				"case.yaml:16: VirtualService default/vs: spec.http[1].route[1].destination.host: host is required",
			},
		},
		"string matches and regexes": {
			yaml: httpVS("  - match:\n    - uri: {exact: /a, prefix: /b}\n    - uri: {}\n    - uri: {regex: \"a(\"}\n    - headers: {x-long: {regex: " + strings.Repeat("a", 1025) + "}}\n    - queryParams: {q: {prefix: x}}\n" + okRoute),
			want: []string{
				"case.yaml:9: VirtualService default/vs: spec.http[0].match[0].uri: set only one of exact, prefix and regex",
				"case.yaml:10: VirtualService default/vs: spec.http[0].match[1].uri: one of exact, prefix and regex is required",
				"case.yaml:11: VirtualService default/vs: spec.http[0].match[2].uri.regex: invalid regex: error parsing regexp: missing closing ): `a(`",
				"case.yaml:12: VirtualService default/vs: spec.http[0].match[3].headers.x-long.regex: regex is 1025 characters long; at most 1024 are allowed",
				"case.yaml:13: VirtualService default/vs: spec.http[0].match[4].queryParams.q.prefix: query parameters match exact or regex only",
			},
		},
		"regex over Envoy's RE2 program size limit": {
			yaml: httpVS("  - match:\n    - uri: {regex: \"/[a-z0-9]{1,1000}\"}\n    - uri: {regex: \"/[a-z]{1,300}\"}\n      ignoreUriCase: true\n    - uri: {regex: \"/[a-z]{1,300}\"}\n" + okRoute),
			want: []string{
				"case.yaml:9: VirtualService default/vs: spec.http[0].match[0].uri.regex: regex has an RE2 program size of 3004; Envoy accepts at most 1000 (runtime re2.max_program_size.error_level)",
				"case.yaml:10: VirtualService default/vs: spec.http[0].match[1].uri.regex: regex has an RE2 program size of 2104 (with ignoreUriCase); Envoy accepts at most 1000 (runtime re2.max_program_size.error_level)",
			},
		},
		"unknown formatter command": {
			yaml: httpVS(okHTTP + "    headers:\n      request:\n        set: {x-nick: \"%DOWNSTREAM_PEER_NICKNAME%\", x-ok: \"%DOWNSTREAM_PEER_URI_SAN% %REQ(x-a):10% %START_TIME(%s)% 100%%\"}\n"),
			want: []string{
				`case.yaml:11: VirtualService default/vs: spec.http[0].headers.request.set.x-nick: header value "%DOWNSTREAM_PEER_NICKNAME%": unknown formatter command %DOWNSTREAM_PEER_NICKNAME% (did you mean %DOWNSTREAM_PEER_IP_SAN%?)`,
			},
		},
		"direct response body over 1 MiB": {
			yaml: httpVS("  - directResponse: {status: 200, body: {string: " + strings.Repeat("a", 1<<20+1) + "}}\n  - directResponse: {status: 200, body: {string: " + strings.Repeat("a", 1<<20) + "}}\n"),
			want: []string{
				"case.yaml:8: VirtualService default/vs: spec.http[0].directResponse.body: body is 1048577 bytes; at most 1048576 are allowed (Istio's limit; Envoy holds direct-response bodies in memory)",
			},
		},
		"durations": {
			yaml: httpVS("  - timeout: soon\n    retries: {attempts: -1, perTryTimeout: 0s}\n" + okRoute),
			want: []string{
				`case.yaml:8: VirtualService default/vs: spec.http[0].timeout: invalid duration "soon" (use a form like 500ms, 10s, 1m, 1h)`,
				"case.yaml:9: VirtualService default/vs: spec.http[0].retries.attempts: attempts must not be negative",
				`case.yaml:9: VirtualService default/vs: spec.http[0].retries.perTryTimeout: duration "0s" must be positive`,
			},
		},
		"header operations": {
			yaml: httpVS(okHTTP + "    headers:\n      request:\n        set: {\"bad header\": x, \":path\": /x}\n      response:\n        add: {x-a: \"50% off\", x-b: \"%REQ(x\", x-c: \"%DOWNSTREAM_PEER_URI_SAN\"}\n        remove: [\"\"]\n"),
			want: []string{
				`case.yaml:11: VirtualService default/vs: spec.http[0].headers.request.set.:path: pseudo header ":path" cannot be used (only :authority)`,
				`case.yaml:11: VirtualService default/vs: spec.http[0].headers.request.set.bad header: header name "bad header" has an invalid character ' '`,
				`case.yaml:13: VirtualService default/vs: spec.http[0].headers.response.add.x-a: header value "50% off": % starts no command (write %% for a literal %)`,
				`case.yaml:13: VirtualService default/vs: spec.http[0].headers.response.add.x-b: header value "%REQ(x": %REQ( has no closing )`,
				`case.yaml:13: VirtualService default/vs: spec.http[0].headers.response.add.x-c: header value "%DOWNSTREAM_PEER_URI_SAN": %DOWNSTREAM_PEER_URI_SAN is not closed by %`,
				"case.yaml:14: VirtualService default/vs: spec.http[0].headers.response.remove[0]: header name is empty",
			},
		},
		"rewrites": {
			yaml: httpVS("  - redirect: {uri: /b}\n    rewrite: {uri: /c}\n" +
				"  - rewrite: {uri: /a, uriRegexRewrite: {match: \"(\", rewrite: /}}\n" + okRoute +
				"  - route: [{destination: {host: a, port: {number: 65536}}}]\n"),
			want: []string{
				"case.yaml:9: VirtualService default/vs: spec.http[0].rewrite: rewrite cannot be used with redirect",
				"case.yaml:10: VirtualService default/vs: spec.http[1].rewrite.uriRegexRewrite.match: invalid regex: error parsing regexp: missing closing ): `(`",
				"case.yaml:10: VirtualService default/vs: spec.http[1].rewrite: set only one of uri and uriRegexRewrite",
				"case.yaml:12: VirtualService default/vs: spec.http[2].route[0].destination.port.number: port 65536 is not between 1 and 65535",
			},
		},
		"SNI hosts covered by wildcards and exact hosts": {
			yaml: vsDoc("  hosts: [\"*.example.com\", b.example.org]\n  gateways: [gw]\n  tls:\n  - match: [{sniHosts: [a.example.com, \"*.x.example.com\", B.example.org]}]\n    route: [{destination: {host: a}}]\n"),
		},
		"redirect and direct response": {
			yaml: httpVS("  - redirect: {uri: /b, redirectCode: 305, scheme: ftp}\n  - directResponse: {status: 600, body: {string: a, bytes: \"!!\"}}\n"),
			want: []string{
				"case.yaml:8: VirtualService default/vs: spec.http[0].redirect.redirectCode: redirectCode 305 is not one of 301, 302, 303, 307, 308",
				`case.yaml:8: VirtualService default/vs: spec.http[0].redirect.scheme: scheme "ftp" is not http or https`,
				"case.yaml:9: VirtualService default/vs: spec.http[1].directResponse.body.bytes: bytes is not valid base64",
				"case.yaml:9: VirtualService default/vs: spec.http[1].directResponse.body: set only one of string and bytes",
				"case.yaml:9: VirtualService default/vs: spec.http[1].directResponse.status: status 600 is not between 200 and 599",
			},
		},
		"tls and tcp routes": {
			yaml: vsDoc("  hosts: [\"*.example.com\"]\n  gateways: [gw]\n  tls:\n  - match: [{sniHosts: [a.example.com, a.example.org]}]\n    route: [{destination: {host: a}}]\n  - match: []\n  tcp:\n  - match: [{port: 70000}]\n"),
			want: []string{
				`case.yaml:8: VirtualService default/vs: spec.tls[0].match[0].sniHosts[1]: SNI host "a.example.org" is not covered by the VirtualService's hosts [*.example.com]`,
				"case.yaml:10: VirtualService default/vs: spec.tls[1].match: at least one match with sniHosts is required",
				"case.yaml:10: VirtualService default/vs: spec.tls[1].route: at least one route destination is required",
				"case.yaml:12: VirtualService default/vs: spec.tcp[0].match[0].port: port 70000 is not between 1 and 65535",
				"case.yaml:12: VirtualService default/vs: spec.tcp[0].route: at least one route destination is required",
			},
		},
	})
}
