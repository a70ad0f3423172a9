package dump

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/trustgate/trustgate/xds/translate"
)

// document is the dump's layout; the field order is the output order.
type document struct {
	Listeners []json.RawMessage `json:"listeners"`
	Routes    []json.RawMessage `json:"routes"`
	Clusters  []json.RawMessage `json:"clusters"`
	Endpoints []json.RawMessage `json:"endpoints"`
	Secrets   []json.RawMessage `json:"secrets"`
}

// JSON renders r as trustgate's resources document, one indented JSON
// document with a list per resource type. Sensitive fields (private keys)
// are redacted unless showSecrets is set.
func JSON(r *translate.Resources, showSecrets bool) ([]byte, error) {
	var doc document
	var err error
	if doc.Listeners, err = marshalAll(r.Listeners, showSecrets); err != nil {
		return nil, fmt.Errorf("listeners: %w", err)
	}
	if doc.Routes, err = marshalAll(r.Routes, showSecrets); err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	if doc.Clusters, err = marshalAll(r.Clusters, showSecrets); err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	if doc.Endpoints, err = marshalAll(r.Endpoints, showSecrets); err != nil {
		return nil, fmt.Errorf("endpoints: %w", err)
	}
	if doc.Secrets, err = marshalAll(r.Secrets, showSecrets); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	compact, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return indentJSON(compact)
}

// indent renders m in Envoy's JSON form (see marshalAll) with stable
// whitespace.
func indent(m proto.Message) ([]byte, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	return indentJSON(b)
}

// indentJSON re-indents JSON: encoding/json compacts and Indent then gives
// stable whitespace (protojson's own output varies on purpose).
func indentJSON(b []byte) ([]byte, error) {
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		return nil, err
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// YAML renders r as one YAML document (the JSON document converted; keys
// come out sorted).
func YAML(r *translate.Resources, showSecrets bool) ([]byte, error) {
	j, err := JSON(r, showSecrets)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(j)
}

// marshalAll renders each resource in Envoy's JSON form: proto field names
// (Envoy's docs and config dumps use them) and Any as "@type" plus fields.
// A nil list renders as [] rather than null.
func marshalAll[T proto.Message](ms []T, showSecrets bool) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	for _, m := range ms {
		var msg proto.Message = m
		if !showSecrets {
			var err error
			if msg, err = redact(m); err != nil {
				return nil, err
			}
		}
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(msg)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
