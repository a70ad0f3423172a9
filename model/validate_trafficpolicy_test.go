package model

import "testing"

// tpDoc is a DestinationRule default/dr for host b whose trafficPolicy
// body (indented four spaces) starts on line 7.
func tpDoc(policy string) string {
	return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: dr}\nspec:\n  host: b\n  trafficPolicy:\n" + policy
}

func TestValidateTrafficPolicy(t *testing.T) {
	validateCases(t, map[string]validateCase{
		"everything a gateway honours": {
			yaml: tpDoc("    loadBalancer:\n      simple: ROUND_ROBIN\n      warmup: {duration: 30s, minimumPercent: 10, aggression: 1.5}\n" +
				"    connectionPool:\n      tcp: {maxConnections: 100, connectTimeout: 2s, maxConnectionDuration: 1h, idleTimeout: 20s, tcpKeepalive: {probes: 3, time: 60s, interval: 10s}}\n" +
				"      http: {http1MaxPendingRequests: 10, http2MaxRequests: 100, maxRequestsPerConnection: 5, maxRetries: 3, idleTimeout: 0s, h2UpgradePolicy: UPGRADE, maxConcurrentStreams: 50, http2KeepAlive: {interval: 30s, timeout: 5s}}\n" +
				"    outlierDetection: {consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50, minHealthPercent: 0, outlierDetectionHttpErrorCodes: [503]}\n" +
				"    retryBudget: {percent: 25, minRetryConcurrency: 5, budgetInterval: 10s}\n" +
				"    portLevelSettings:\n    - port: {number: 8443}\n      loadBalancer: {consistentHash: {httpCookie: {name: s, ttl: 0s, attributes: [{name: SameSite, value: Strict}]}, maglev: {tableSize: 65537}}}\n"),
		},
		"load balancer mistakes": {
			yaml: tpDoc("    loadBalancer:\n      simple: PASSTHROUGH\n      consistentHash: {httpHeaderName: x-user, useSourceIp: true, ringHash: {minimumRingSize: 9000000}, maglev: {tableSize: 100}}\n" +
				"    portLevelSettings:\n    - port: {number: 80}\n      loadBalancer: {simple: FASTEST, warmup: {aggression: 0}, warmupDurationSecs: 10s}\n"),
			want: []string{
				"case.yaml:7: DestinationRule default/dr: spec.trafficPolicy.loadBalancer: set only one of simple and consistentHash",
				"case.yaml:8: DestinationRule default/dr: spec.trafficPolicy.loadBalancer.simple: PASSTHROUGH is not supported by trustgate: it sends each connection to its original destination address, which at a gateway is the gateway itself",
				"case.yaml:9: DestinationRule default/dr: spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: table size 100 must be a prime number of at most 5000011 (Envoy's rule)",
				"case.yaml:9: DestinationRule default/dr: spec.trafficPolicy.loadBalancer.consistentHash: exactly one of httpHeaderName, httpCookie, useSourceIp and httpQueryParameterName is required",
				"case.yaml:9: DestinationRule default/dr: spec.trafficPolicy.loadBalancer.consistentHash: minimum ring size 9000000 is over Envoy's limit of 8388608",
				"case.yaml:9: DestinationRule default/dr: spec.trafficPolicy.loadBalancer.consistentHash: set only one of ringHash and maglev",
				`case.yaml:12: DestinationRule default/dr: spec.trafficPolicy.portLevelSettings[0].loadBalancer.simple: "FASTEST" is not one of UNSPECIFIED, LEAST_CONN, RANDOM, ROUND_ROBIN, LEAST_REQUEST`,
				"case.yaml:12: DestinationRule default/dr: spec.trafficPolicy.portLevelSettings[0].loadBalancer.warmup.aggression: aggression must be positive",
				"case.yaml:12: DestinationRule default/dr: spec.trafficPolicy.portLevelSettings[0].loadBalancer.warmup.duration: duration is required",
				"case.yaml:12: DestinationRule default/dr: spec.trafficPolicy.portLevelSettings[0].loadBalancer.warmupDurationSecs: set only one of warmup and the deprecated warmupDurationSecs",
			},
		},
		"connection pool and outlier mistakes": {
			yaml: tpDoc("    connectionPool:\n      tcp: {maxConnections: -1, connectTimeout: 0s, tcpKeepalive: {time: 500ms}}\n      http: {maxRetries: -2, h2UpgradePolicy: ALWAYS, http2KeepAlive: {interval: 10s}}\n" +
				"    outlierDetection: {maxEjectionPercent: 101, outlierDetectionHttpErrorCodes: [42]}\n    retryBudget: {percent: 120}\n"),
			want: []string{
				"case.yaml:8: DestinationRule default/dr: spec.trafficPolicy.connectionPool.tcp.connectTimeout: duration \"0s\" must be positive",
				"case.yaml:8: DestinationRule default/dr: spec.trafficPolicy.connectionPool.tcp.maxConnections: -1 must not be negative",
				"case.yaml:8: DestinationRule default/dr: spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.time: 500ms is under 1s; TCP keepalive counts whole seconds",
				`case.yaml:9: DestinationRule default/dr: spec.trafficPolicy.connectionPool.http.h2UpgradePolicy: "ALWAYS" is not one of DEFAULT, DO_NOT_UPGRADE, UPGRADE`,
				"case.yaml:9: DestinationRule default/dr: spec.trafficPolicy.connectionPool.http.http2KeepAlive.timeout: timeout is required (Envoy needs to know when an unanswered PING closes the connection)",
				"case.yaml:9: DestinationRule default/dr: spec.trafficPolicy.connectionPool.http.maxRetries: -2 must not be negative",
				"case.yaml:10: DestinationRule default/dr: spec.trafficPolicy.outlierDetection.maxEjectionPercent: 101 is not between 0 and 100",
				"case.yaml:10: DestinationRule default/dr: spec.trafficPolicy.outlierDetection.outlierDetectionHttpErrorCodes[0]: 42 is not an HTTP status code",
				"case.yaml:11: DestinationRule default/dr: spec.trafficPolicy.retryBudget.percent: 120 is not between 0 and 100",
			},
		},
	})
}
