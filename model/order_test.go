package model

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompareCreation(t *testing.T) {
	obj := func(ns, name, ts string) *Object {
		return &Object{Metadata: ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: ts}}
	}
	tests := map[string]struct {
		in   []*Object
		want []string // "ns/name" in order
	}{
		"older first, whatever the name": {
			in:   []*Object{obj("a", "a", "2024-05-02T00:00:00Z"), obj("a", "z", "2024-05-01T00:00:00Z")},
			want: []string{"a/z", "a/a"},
		},
		"no timestamp is the zero time: before every timestamp": {
			in:   []*Object{obj("a", "a", "2020-01-01T00:00:00Z"), obj("a", "z", "")},
			want: []string{"a/z", "a/a"},
		},
		"equal times: name, then namespace (Istio's tie-break)": {
			in: []*Object{
				obj("b", "x", "2024-05-01T00:00:00Z"), obj("a", "y", "2024-05-01T00:00:00Z"),
				obj("a", "x", "2024-05-01T00:00:00Z"),
			},
			want: []string{"a/x", "b/x", "a/y"},
		},
		"offsets compare as instants": {
			in:   []*Object{obj("a", "a", "2024-05-01T10:00:00+02:00"), obj("a", "b", "2024-05-01T09:00:00Z")},
			want: []string{"a/a", "a/b"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := slices.Clone(tc.in)
			slices.SortStableFunc(got, CompareCreation)
			var names []string
			for _, o := range got {
				names = append(names, o.Metadata.Namespace+"/"+o.Metadata.Name)
			}
			if diff := cmp.Diff(tc.want, names); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateCreationTimestamp(t *testing.T) {
	validateCases(t, map[string]validateCase{
		"kubectl's form, quoted or not, and null": {
			yaml: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: a, creationTimestamp: 2024-05-01T10:00:00Z}\nspec: {host: a}\n---\n" +
				"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: b, creationTimestamp: \"2024-05-01T10:00:00+02:00\"}\nspec: {host: b}\n---\n" +
				"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: c, creationTimestamp: null}\nspec: {host: c}\n",
		},
		"not RFC 3339": {
			yaml: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: a\n  creationTimestamp: \"yesterday\"\nspec: {host: a}\n",
			want: []string{`case.yaml:5: DestinationRule default/a: metadata.creationTimestamp: "yesterday" is not an RFC 3339 time (e.g. 2024-05-01T12:00:00Z)`},
		},
	})
}
