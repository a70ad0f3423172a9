package model

import "testing"

// drDoc is a DestinationRule default/dr whose spec starts on line 5.
func drDoc(spec string) string {
	return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: dr}\nspec:\n" + spec
}

// seDoc is a ServiceEntry default/se whose spec starts on line 5.
func seDoc(spec string) string {
	return "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: se}\nspec:\n" + spec
}

func TestValidateDestinationRule(t *testing.T) {
	validateCases(t, map[string]validateCase{
		"MUTUAL with a credential, SIMPLE with files, subsets": {
			yaml: drDoc("  host: backend.internal\n  trafficPolicy:\n    tls: {mode: MUTUAL, credentialName: backend-client, sni: backend.internal, subjectAltNames: [backend.internal]}\n" +
				"    portLevelSettings:\n    - port: {number: 8443}\n      tls: {mode: SIMPLE, caCertificates: certs/ca.pem}\n" +
				"  subsets:\n  - name: v1\n    labels: {version: v1}\n    trafficPolicy:\n      tls: {mode: MUTUAL, clientCertificate: certs/server.pem, privateKey: certs/key.pem}\n"),
		},
		"host is required": {
			yaml: drDoc("  trafficPolicy: {tls: {mode: DISABLE}}\n"),
			want: []string{"case.yaml:4: DestinationRule default/dr: spec.host: host is required"},
		},
		"modes": {
			yaml: drDoc("  host: b\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL}\n    portLevelSettings:\n    - port: {number: 1}\n      tls: {mode: STRICT}\n"),
			want: []string{
				"case.yaml:7: DestinationRule default/dr: spec.trafficPolicy.tls.mode: tls.mode ISTIO_MUTUAL is not supported by trustgate: it has no mesh identity",
				`case.yaml:10: DestinationRule default/dr: spec.trafficPolicy.portLevelSettings[0].tls.mode: tls.mode "STRICT" is not one of DISABLE, SIMPLE, MUTUAL`,
			},
		},
		"MUTUAL needs a client certificate": {
			yaml: drDoc("  host: b\n  trafficPolicy:\n    tls:\n      mode: MUTUAL\n      caCertificates: certs/ca.pem\n"),
			want: []string{"case.yaml:7: DestinationRule default/dr: spec.trafficPolicy.tls: MUTUAL needs a client certificate: set credentialName, or clientCertificate and privateKey"},
		},
		"credential problems": {
			yaml: drDoc("  host: b\n  trafficPolicy:\n    tls:\n      mode: MUTUAL\n      credentialName: client-ca\n      clientCertificate: certs/server.pem\n" +
				"  subsets:\n  - name: v1\n    trafficPolicy: {tls: {mode: SIMPLE, credentialName: backend-clint}}\n"),
			want: []string{
				"case.yaml:7: DestinationRule default/dr: spec.trafficPolicy.tls.privateKey: privateKey is required with clientCertificate",
				"case.yaml:7: DestinationRule default/dr: spec.trafficPolicy.tls: set only one of credentialName, and clientCertificate with privateKey",
				`case.yaml:9: DestinationRule default/dr: spec.trafficPolicy.tls.credentialName: secret "client-ca" (secrets.yaml:20 Secret istio-system/client-ca) has no certificate and key: expected keys tls.crt and tls.key (or cert and key)`,
				`case.yaml:13: DestinationRule default/dr: spec.subsets[0].trafficPolicy.tls.credentialName: secrets "backend-clint-cacert" and "backend-clint" not found in namespaces "default" and "istio-system" (did you mean "backend-client"?)`,
			},
		},
		"insecureSkipVerify with caCertificates": {
			yaml: drDoc("  host: b\n  trafficPolicy:\n    tls: {mode: SIMPLE, caCertificates: certs/ca.pem, insecureSkipVerify: true}\n"),
			want: []string{"case.yaml:7: DestinationRule default/dr: spec.trafficPolicy.tls.insecureSkipVerify: insecureSkipVerify contradicts caCertificates: choose one"},
		},
		"subsets and ports unique": {
			yaml: drDoc("  host: b\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n    - port: {number: 80}\n    - port: {number: 0}\n  subsets:\n  - name: v1\n  - name: v1\n  - labels: {a: b}\n  - name: V_1\n"),
			want: []string{
				"case.yaml:9: DestinationRule default/dr: spec.trafficPolicy.portLevelSettings[1].port.number: port 80 is also set by portLevelSettings[0]",
				"case.yaml:10: DestinationRule default/dr: spec.trafficPolicy.portLevelSettings[2].port.number: port 0 is not between 1 and 65535",
				`case.yaml:13: DestinationRule default/dr: spec.subsets[1].name: subset "v1" is also defined by spec.subsets[0]`,
				"case.yaml:14: DestinationRule default/dr: spec.subsets[2].name: subset name is required",
				`case.yaml:15: DestinationRule default/dr: spec.subsets[3].name: subset name: DNS label "V_1" may hold only letters, digits and inner hyphens`,
			},
		},
	})
}

func TestValidateServiceEntry(t *testing.T) {
	validateCases(t, map[string]validateCase{
		"STATIC with named ports": {
			yaml: seDoc("  hosts: [db.internal]\n  addresses: [10.0.0.0/24]\n  ports: [{number: 5432, name: pg, protocol: TCP}]\n  resolution: STATIC\n  location: MESH_EXTERNAL\n" +
				"  endpoints:\n  - address: 10.0.0.1\n    ports: {pg: 6432}\n  - address: \"2001:db8::1\"\n"),
		},
		"DNS endpoints may be names": {
			yaml: seDoc("  hosts: [api.example.com]\n  ports: [{number: 443, name: https}]\n  resolution: DNS\n  endpoints: [{address: api-1.example.com}]\n"),
		},
		"hosts and enums": {
			yaml: seDoc("  resolution: DNS_MAGIC\n  location: NEARBY\n") + "---\n" +
				"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: se2}\nspec:\n  hosts: [\"*.example.com\"]\n  resolution: dns\n  addresses: [10.0.0.0/33]\n",
			want: []string{
				"case.yaml:4: ServiceEntry default/se: spec.hosts: at least one host is required",
				`case.yaml:5: ServiceEntry default/se: spec.resolution: resolution "DNS_MAGIC" is not one of NONE, STATIC, DNS, DNS_ROUND_ROBIN`,
				`case.yaml:6: ServiceEntry default/se: spec.location: location "NEARBY" is not one of MESH_EXTERNAL, MESH_INTERNAL`,
				`case.yaml:12: ServiceEntry default/se2: spec.hosts[0]: wildcard host "*.example.com" cannot be resolved with DNS`,
				`case.yaml:14: ServiceEntry default/se2: spec.addresses[0]: "10.0.0.0/33" is not a CIDR block`,
			},
		},
		"STATIC endpoints and ports": {
			yaml: seDoc("  hosts: [db.internal]\n  ports:\n  - {number: 5432, name: pg}\n  - {number: 5432, name: pg}\n  resolution: STATIC\n  endpoints:\n  - address: db.internal\n    ports: {pgg: 6432, pg: 0}\n") + "---\n" +
				"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: se2}\nspec:\n  hosts: [db2.internal]\n  resolution: STATIC\n",
			want: []string{
				"case.yaml:8: ServiceEntry default/se: spec.ports[1].name: port name \"pg\" is used twice",
				"case.yaml:8: ServiceEntry default/se: spec.ports[1].number: port 5432 is also defined by spec.ports[0]",
				`case.yaml:11: ServiceEntry default/se: spec.endpoints[0].address: resolution STATIC needs an IP address, got "db.internal"`,
				"case.yaml:12: ServiceEntry default/se: spec.endpoints[0].ports.pg: port 0 is not between 1 and 65535",
				`case.yaml:12: ServiceEntry default/se: spec.endpoints[0].ports.pgg: port name "pgg" is not one of spec.ports' names (did you mean "pg"?)`,
				"case.yaml:17: ServiceEntry default/se2: spec.endpoints: resolution STATIC needs endpoints",
			},
		},
	})
}
