package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/trustgate/trustgate/internal/envoyfmt"
)

// Istio's mesh configuration lives in the ConfigMap istio-system/istio,
// under the key "mesh", as YAML (istiod reads it there; `istioctl install`
// and Helm's meshConfig values write it).
const (
	MeshNamespace     = "istio-system"
	MeshConfigMapName = "istio"
	MeshKey           = "mesh"
)

// ConfigMap is a v1 ConfigMap. trustgate reads one: Istio's mesh
// configuration (see MeshConfigMapName); others are reported and ignored.
type ConfigMap struct {
	Object     `json:",inline"`
	Data       map[string]string `json:"data,omitempty"`
	BinaryData map[string]string `json:"binaryData,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
}

// IsMesh reports whether this is Istio's mesh configuration.
func (c *ConfigMap) IsMesh() bool {
	return c.Metadata.Namespace == MeshNamespace && c.Metadata.Name == MeshConfigMapName
}

// MeshConfig is the part of Istio's MeshConfig that trustgate reads: access
// logging, with Istio's field names and values.
type MeshConfig struct {
	// AccessLogFile is where Envoy writes access logs; nil when not set
	// (trustgate then logs to /dev/stdout, where Istio would not log), ""
	// to turn access logs off.
	AccessLogFile *string `json:"accessLogFile,omitempty"`
	// AccessLogEncoding is TEXT or JSON ("" is JSON; Istio's default is
	// TEXT).
	AccessLogEncoding string `json:"accessLogEncoding,omitempty"`
	// AccessLogFormat is the format of request entries: a text line, or a
	// JSON object of field name to value for JSON; "" keeps trustgate's.
	AccessLogFormat string `json:"accessLogFormat,omitempty"`
	// From is the ConfigMap it came from, for errors (paths "data.mesh.*").
	From *ConfigMap `json:"-"`
}

// meshPath is the field path of the mesh text inside its ConfigMap.
const meshPath = "data." + MeshKey

// meshFields are the MeshConfig fields trustgate reads.
var meshFields = []string{"accessLogFile", "accessLogEncoding", "accessLogFormat"}

// readMesh decodes the mesh configuration, reports ConfigMaps that are not
// it, and warns about the mesh fields and keys trustgate does not read.
func (l *loader) readMesh() {
	for _, cm := range l.cfg.ConfigMaps {
		if !cm.IsMesh() {
			l.cfg.Warnings = append(l.cfg.Warnings, warning(cm.Errorf("", "not read: the only ConfigMap trustgate reads is %s/%s, Istio's mesh configuration", MeshNamespace, MeshConfigMapName)))
			continue
		}
		var other []string
		for k := range cm.Data {
			if k != MeshKey {
				other = append(other, k)
			}
		}
		for k := range cm.BinaryData {
			other = append(other, k)
		}
		if len(other) > 0 {
			slices.Sort(other)
			l.cfg.Warnings = append(l.cfg.Warnings, warning(cm.Errorf("data", "keys %s are not read: trustgate reads key %q", strings.Join(other, ", "), MeshKey)))
		}
		if text, ok := cm.Data[MeshKey]; ok {
			l.cfg.Mesh = l.decodeMesh(cm, text)
		}
	}
}

// decodeMesh decodes the mesh text with the lines of the file it sits in:
// a block scalar's content starts on the line after its key.
func (l *loader) decodeMesh(cm *ConfigMap, text string) *MeshConfig {
	mc := &MeshConfig{From: cm}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		e := cm.Errorf(meshPath, "invalid YAML: %v", err)
		e.Code = CodeYAMLSyntax
		l.errs.Add(e)
		return mc
	}
	if len(doc.Content) == 0 || isNull(deref(doc.Content[0])) {
		return mc
	}
	shiftLines(&doc, cm.Pos.LineOf(meshPath))
	nodes := 0
	d := newDecoder(&nodes, nodeLimit(len(text)))
	d.decode(doc.Content[0], reflect.ValueOf(mc).Elem(), meshPath)
	maps.Copy(cm.Pos.Lines, d.lines) // so that Validate's errors find their lines
	var ignored []string
	for _, e := range d.errs {
		fe := &FieldError{File: cm.Pos.File, Line: e.line, Object: cm.Ref(), Path: e.path, Msg: e.msg, Code: e.code}
		// A field close to one trustgate reads is a typo, an error; any
		// other is one of the many MeshConfig fields that configure istiod
		// and its sidecars.
		if e.code == CodeUnknownField && e.explains == "" {
			ignored = append(ignored, strings.TrimPrefix(e.path, meshPath+"."))
			continue
		}
		l.errs.Add(fe)
	}
	if len(ignored) > 0 {
		l.cfg.Warnings = append(l.cfg.Warnings, warning(cm.Errorf(meshPath, "MeshConfig fields %s are not read: trustgate reads %s",
			strings.Join(ignored, ", "), strings.Join(meshFields, ", "))))
	}
	return mc
}

// warning marks e as a warning.
func warning(e *FieldError) *FieldError {
	e.Warning = true
	return e
}

// meshConfig checks the access-log settings: Istio's encodings, and a
// format whose every %COMMAND% Envoy knows (a JSON format being an object
// of field names to text values).
func (v *validator) meshConfig(m *MeshConfig) {
	if m == nil {
		return
	}
	o := &m.From.Object
	enc := m.AccessLogEncoding
	if enc != "" && enc != "TEXT" && enc != "JSON" {
		v.errorf(o, meshPath+".accessLogEncoding", "accessLogEncoding %q: want TEXT or JSON", enc)
		return
	}
	if m.AccessLogFormat == "" {
		return
	}
	path := meshPath + ".accessLogFormat"
	if enc == "TEXT" {
		if err := envoyfmt.Check(m.AccessLogFormat); err != nil {
			v.errorf(o, path, "%v", err)
		}
		return
	}
	fields, err := ParseJSONLogFormat(m.AccessLogFormat)
	if err != nil {
		v.errorf(o, path, "%v", err)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if err := envoyfmt.Check(fields[k]); err != nil {
			v.errorf(o, path, "field %q: %v", k, err)
		}
	}
}

// ParseJSONLogFormat reads a JSON access-log format: an object of field
// names to text values, each of which may hold %COMMAND%s.
func ParseJSONLogFormat(s string) (map[string]string, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("a JSON accessLogFormat must be a JSON object of field names to values: %v", err)
	}
	if len(raw) == 0 {
		return nil, errors.New("a JSON accessLogFormat must name at least one field")
	}
	out := make(map[string]string, len(raw))
	for k, val := range raw {
		str, ok := val.(string)
		if !ok {
			return nil, fmt.Errorf("field %q: values must be text (with %%COMMAND%%s), not %T", k, val)
		}
		out[k] = str
	}
	return out, nil
}
