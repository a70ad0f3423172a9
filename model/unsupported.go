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
		"tlsCertificates":    "use credentialNames",
		"insecureSkipVerify": "it lets a client whose certificate fails verification through; OPTIONAL_MUTUAL accepts clients without a certificate and still verifies any certificate presented",
	},
	"HTTPRoute": {
		"fault":            "fault injection is not implemented",
		"mirror":           "traffic mirroring is not implemented",
		"mirrors":          "traffic mirroring is not implemented",
		"mirrorPercentage": "traffic mirroring is not implemented",
		"mirrorPercent":    "traffic mirroring is not implemented",
		"mirror_percent":   "traffic mirroring is not implemented",
		"delegate":         "delegate VirtualServices are not implemented",
	},
	"HTTPMatchRequest": {
		"sourceLabels":    "it selects sidecar workloads",
		"sourceNamespace": "it selects sidecar workloads",
		"statPrefix":      "per-route stat prefixes are not implemented",
	},
	"TLSMatchAttributes": {
		"destinationSubnets": "every connection's destination is the gateway itself",
		"sourceLabels":       "it selects sidecar workloads",
		"sourceNamespace":    "it selects sidecar workloads",
	},
	"L4MatchAttributes": {
		"destinationSubnets": "every connection's destination is the gateway itself",
		"sourceSubnet":       "deprecated in Istio; use an AuthorizationPolicy with ipBlocks",
		"sourceLabels":       "it selects sidecar workloads",
		"sourceNamespace":    "it selects sidecar workloads",
	},
	"HTTPRedirect": {
		"derivePort": "not implemented; Envoy keeps the request's port unless port is set",
	},
	"HTTPRetry": {
		"retryRemoteLocalities": "endpoints carry no locality, so it would change nothing",
	},
	"CorsPolicy": {
		"allowOrigin":         "use allowOrigins",
		"unmatchedPreflights": "not implemented; unmatched preflights are forwarded, Envoy's default",
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
		"trustDomains":         "not implemented; principals with the prefix spiffe://<domain>/ say the same",
		"notTrustDomains":      "not implemented; notPrincipals with the prefix spiffe://<domain>/ say the same",
	},
}
