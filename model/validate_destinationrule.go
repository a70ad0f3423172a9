package model

import (
	"fmt"
	"strings"
)

// Client TLS modes.
var (
	clientTLSModes         = []string{"DISABLE", "SIMPLE", "MUTUAL"}
	rejectedClientTLSModes = map[string]string{"ISTIO_MUTUAL": "it has no mesh identity"}
)

func (v *validator) destinationRule(dr *DestinationRule) {
	o := &dr.Object
	if dr.Spec.Host == "" {
		v.errorf(o, "spec.host", "host is required")
	} else if err := checkHost(dr.Spec.Host); err != nil {
		v.errorf(o, "spec.host", "%v", err)
	}
	v.trafficPolicy(o, "spec.trafficPolicy", dr.Spec.TrafficPolicy)
	seen := map[string]int{}
	for i := range dr.Spec.Subsets {
		ss := &dr.Spec.Subsets[i]
		p := fmt.Sprintf("spec.subsets[%d]", i)
		switch j, dup := seen[ss.Name]; {
		case ss.Name == "":
			v.errorf(o, p+".name", "subset name is required")
		case dup:
			v.errorf(o, p+".name", "subset %q is also defined by spec.subsets[%d]", ss.Name, j)
		default:
			seen[ss.Name] = i
			if err := checkDNSLabel(ss.Name); err != nil {
				v.errorf(o, p+".name", "subset name: %v", err)
			}
		}
		v.trafficPolicy(o, p+".trafficPolicy", ss.TrafficPolicy)
	}
}

func (v *validator) trafficPolicy(o *Object, p string, tp *TrafficPolicy) {
	if tp == nil {
		return
	}
	v.clientTLS(o, p+".tls", tp.TLS)
	v.policyParts(o, p, tp.LoadBalancer, tp.ConnectionPool, tp.OutlierDetection)
	v.retryBudget(o, p+".retryBudget", tp.RetryBudget)
	ports := map[uint32]int{}
	for i := range tp.PortLevelSettings {
		pl := &tp.PortLevelSettings[i]
		pp := fmt.Sprintf("%s.portLevelSettings[%d]", p, i)
		n := pl.Port.Number
		switch j, dup := ports[n]; {
		case !validPort(n):
			v.errorf(o, pp+".port.number", "port %d is not between 1 and 65535", n)
		case dup:
			v.errorf(o, pp+".port.number", "port %d is also set by portLevelSettings[%d]", n, j)
		default:
			ports[n] = i
		}
		v.clientTLS(o, pp+".tls", pl.TLS)
		v.policyParts(o, pp, pl.LoadBalancer, pl.ConnectionPool, pl.OutlierDetection)
	}
}

// clientTLS checks TLS towards a backend.
func (v *validator) clientTLS(o *Object, p string, t *ClientTLSSettings) {
	if t == nil {
		return
	}
	if t.Mode != "" {
		if err := enum(t.Mode, clientTLSModes, rejectedClientTLSModes); err != nil {
			v.errorf(o, p+".mode", "tls.mode %v", err)
			return
		}
	}
	mode := strings.ToUpper(t.Mode)
	if mode == "" || mode == "DISABLE" {
		return // Istio's default is DISABLE; the other fields are unused
	}
	files := t.ClientCertificate != "" || t.PrivateKey != ""
	if t.CredentialName != "" && files {
		v.errorf(o, p, "set only one of credentialName, and clientCertificate with privateKey")
	}
	if mode == "MUTUAL" && t.CredentialName == "" && !files {
		v.errorf(o, p, "MUTUAL needs a client certificate: set credentialName, or clientCertificate and privateKey")
	}
	v.certFiles(o, p, t.ClientCertificate, "clientCertificate", t.PrivateKey)
	if t.CredentialName != "" {
		v.upstreamCredential(o, p+".credentialName", mode, t.CredentialName)
	}
	if t.InsecureSkipVerify != nil && *t.InsecureSkipVerify && t.CACertificates != "" {
		v.errorf(o, p+".insecureSkipVerify", "insecureSkipVerify contradicts caCertificates: choose one")
	}
	if t.CACertificates != "" {
		v.pemFile(o, p+".caCertificates", t.CACertificates, pemCert)
	}
	if t.CACrl != "" {
		v.pemFile(o, p+".caCrl", t.CACrl, pemCRL)
	}
	for i, san := range t.SubjectAltNames {
		if san == "" {
			v.errorf(o, fmt.Sprintf("%s.subjectAltNames[%d]", p, i), "subject alt name is empty")
		}
	}
}

// upstreamCredential resolves a DestinationRule credentialName: for MUTUAL
// it must hold a client certificate and key; for SIMPLE Istio reads only
// the CA from it.
func (v *validator) upstreamCredential(o *Object, path, mode, name string) {
	if mode == "MUTUAL" {
		v.certCredential(o, path, o.Metadata.Namespace, name)
		return
	}
	if _, err := v.c.ResolveCACredential(o.Metadata.Namespace, name); err != nil {
		v.errs.Add(o.ErrorAt(path, err))
	}
}
