package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// LoadDocuments decodes objects that come from somewhere other than files:
// the Kubernetes API (source/kubernetes). Each document is one object, as
// YAML or JSON, and goes through the same strict decoder as a file's, so
// unknown fields, type mismatches and invalid Secret data are the same
// errors. Positions carry no file and no line: an error reads
// "Kind namespace/name: field.path: message", which names the object where
// the user keeps it.
//
// Istio's file fields (serverCertificate, privateKey, caCertificates,
// caCrl, clientCertificate) are refused: read from the API, they would name
// files on trustgate's own file system, not the gateway's, and let anyone
// who may write a Gateway have trustgate read and ship any file it can
// (its service-account token, say) to a proxy. credentialName is the way.
func LoadDocuments(docs [][]byte) (*Config, error) {
	l := &loader{cfg: &Config{Files: map[string][]byte{}, materials: new(sync.Map), secretIdx: newSecretIndex()}, noPositions: true}
	for i, data := range docs {
		l.nodes, l.limit = 0, nodeLimit(len(data))
		var doc yaml.Node
		if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				continue
			}
			l.fileErr(fmt.Sprintf("document %d", i+1), 0, "invalid YAML or JSON: %v", err)
			continue
		}
		if len(doc.Content) == 0 || isNull(deref(doc.Content[0])) {
			continue
		}
		// inList: a List is not an object of the API.
		l.loadObject("", deref(doc.Content[0]), true)
	}
	l.checkSecretData()
	for _, g := range l.cfg.Gateways {
		l.refuseFiles(&g.Object, gatewayFileFields(g))
	}
	for _, dr := range l.cfg.DestinationRules {
		l.refuseFiles(&dr.Object, destinationRuleFileFields(dr))
	}
	return l.cfg, l.errs.Err()
}

// refuseFiles reports every set file field of an object read from the API.
func (l *loader) refuseFiles(o *Object, fields []fileField) {
	for _, f := range fields {
		if f.value != "" {
			l.errs.Add(o.Errorf(f.path, "file fields are not read from the Kubernetes API: %q would name a file on trustgate's own file system; use credentialName", f.value))
		}
	}
}

// At is " (file:line)" of field path in this object (its own line for
// ""), for messages that point at another object; "" for an object from the
// Kubernetes API, which its reference alone names.
func (s Position) At(path string) string {
	if s.File == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", s.File, s.LineOf(path))
}
