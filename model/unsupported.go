package model

// unsupportedFields lists, per model type name, the fields Istio's API has
// but trustgate does not implement, with an optional reason. The loader
// names them as unsupported rather than unknown, so a user porting Istio
// configuration knows the field is not a typo and will not be ignored.
var unsupportedFields = map[string]map[string]string{
	"Server": {
		"defaultEndpoint": "it applies to sidecars",
	},
	"ServerTLSSettings": {
		"tlsCertificates": "use credentialNames",
	},
	"HTTPRoute": {
		"fault":            "",
		"mirror":           "",
		"mirrors":          "",
		"mirrorPercentage": "",
		"mirrorPercent":    "",
		"mirror_percent":   "",
		"delegate":         "",
	},
	"HTTPMatchRequest": {
		"sourceLabels":    "it selects sidecar workloads",
		"sourceNamespace": "it selects sidecar workloads",
		"statPrefix":      "",
	},
	"TLSMatchAttributes": {
		"destinationSubnets": "",
		"sourceLabels":       "it selects sidecar workloads",
		"sourceNamespace":    "it selects sidecar workloads",
	},
	"L4MatchAttributes": {
		"destinationSubnets": "",
		"sourceSubnet":       "",
		"sourceLabels":       "it selects sidecar workloads",
		"sourceNamespace":    "it selects sidecar workloads",
	},
	"HTTPRedirect": {
		"derivePort": "",
	},
	"HTTPRetry": {
		"retryRemoteLocalities": "endpoints carry no locality, so it would change nothing",
	},
	"CorsPolicy": {
		"allowOrigin":         "use allowOrigins",
		"unmatchedPreflights": "",
	},
	"DestinationRuleSpec": {
		"workloadSelector": "it selects sidecar workloads",
	},
	"TrafficPolicy": {
		"tunnel":        "tunnelling TCP over HTTP CONNECT to a proxy is not implemented",
		"proxyProtocol": "sending the PROXY protocol to backends is not implemented",
	},
	"LoadBalancerSettings": {
		"localityLbSetting":  "endpoints carry no locality",
		"zoneAwareLbSetting": "endpoints carry no locality",
	},
	"OutlierDetection": {
		"consecutiveErrors": "deprecated, and Istio ignores it: use consecutive5xxErrors",
	},
	"ServiceEntrySpec": {
		"workloadSelector": "it selects sidecar workloads",
	},
	"WorkloadEntry": {
		"serviceAccount": "it has no mesh identity",
	},
	"AuthorizationPolicySpec": {
		"provider": "CUSTOM (external) authorization is not supported",
	},
	"Source": {
		"requestPrincipals":    "it has no JWT authentication",
		"notRequestPrincipals": "it has no JWT authentication",
		"namespaces":           "it has no mesh identity; match certificate principals instead",
		"notNamespaces":        "it has no mesh identity; match certificate principals instead",
		"serviceAccounts":      "it has no mesh identity; match certificate principals instead",
		"notServiceAccounts":   "it has no mesh identity; match certificate principals instead",
	},
}
