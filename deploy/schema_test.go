package deploy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/trustgate/trustgate/internal/goldentest"
	"github.com/trustgate/trustgate/model"
)

// TestCRDSchemaIsTheModel regenerates the CRD's structural schema from
// model.ClientCertificatePolicySpec and compares it with the chart's CRD:
// a field added to the model and not to the CRD would be pruned by the API
// server before trustgate ever saw it. `go test ./deploy -update` rewrites
// the file.
func TestCRDSchemaIsTheModel(t *testing.T) {
	want, err := crdYAML()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("chart", CRDPath)
	if *goldentest.Update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := CRD(); !bytes.Equal(got, want) {
		t.Errorf("%s differs from the model's types (-file +model); run go test ./deploy -update:\n%s", path, cmp.Diff(string(got), string(want)))
	}
}

func crdYAML() ([]byte, error) {
	spec := schemaOf(reflect.TypeFor[model.ClientCertificatePolicySpec]())
	status := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"observedGeneration": map[string]any{"type": "integer", "format": "int64"},
			"conditions": map[string]any{
				"type":                   "array",
				"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": []string{"type"},
				"items": map[string]any{
					"type":     "object",
					"required": []string{"type", "status"},
					"properties": map[string]any{
						"type":               map[string]any{"type": "string"},
						"status":             map[string]any{"type": "string", "enum": []string{"True", "False", "Unknown"}},
						"reason":             map[string]any{"type": "string"},
						"message":            map[string]any{"type": "string"},
						"observedGeneration": map[string]any{"type": "integer", "format": "int64"},
						"lastTransitionTime": map[string]any{"type": "string", "format": "date-time"},
					},
				},
			},
		},
	}
	crd := map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "clientcertificatepolicies.trustgate.dev"},
		"spec": map[string]any{
			"group": "trustgate.dev",
			"scope": "Namespaced",
			"names": map[string]any{
				"kind": "ClientCertificatePolicy", "listKind": "ClientCertificatePolicyList",
				"plural": "clientcertificatepolicies", "singular": "clientcertificatepolicy",
				"shortNames": []string{"ccp"}, "categories": []string{"trustgate"},
			},
			"versions": []any{map[string]any{
				"name": "v1alpha1", "served": true, "storage": true,
				"subresources": map[string]any{"status": map[string]any{}},
				"additionalPrinterColumns": []any{
					map[string]any{"name": "Gateway", "type": "string", "jsonPath": ".spec.targetRef.name"},
					map[string]any{"name": "Accepted", "type": "string", "jsonPath": `.status.conditions[?(@.type=="Accepted")].status`},
					map[string]any{"name": "Programmed", "type": "string", "jsonPath": `.status.conditions[?(@.type=="Programmed")].status`},
					map[string]any{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
				},
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type":        "object",
					"description": "ClientCertificatePolicy holds the client-certificate settings Istio's kinds lack, for a Gateway or one of its servers. Generated from model.ClientCertificatePolicySpec.",
					"required":    []string{"spec"},
					"properties": map[string]any{
						"apiVersion": map[string]any{"type": "string"},
						"kind":       map[string]any{"type": "string"},
						"metadata":   map[string]any{"type": "object"},
						"spec":       spec,
						"status":     status,
					},
				}},
			}},
		},
	}
	b, err := yaml.Marshal(crd)
	if err != nil {
		return nil, err
	}
	return append([]byte("# Generated from model.ClientCertificatePolicySpec by `go test ./deploy -update`; do not edit.\n"), b...), nil
}

// schemaOf is the OpenAPI v3 structural schema of a model type, from its
// json tags: fields without omitempty are required.
func schemaOf(t reflect.Type) map[string]any {
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Uint32:
		return map[string]any{"type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		addFields(t, props, &required)
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	panic(fmt.Sprintf("schemaOf: unsupported type %s", t))
}

func addFields(t reflect.Type, props map[string]any, required *[]string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case name == "-" || !f.IsExported():
			continue
		case name == "" && (f.Anonymous || strings.Contains(opts, "inline")):
			addFields(f.Type, props, required)
			continue
		case name == "":
			name = f.Name
		}
		props[name] = schemaOf(f.Type)
		if !strings.Contains(opts, "omitempty") {
			*required = append(*required, name)
		}
	}
}
