package labels

import (
	"errors"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestParse(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		"empty":              {in: "", want: map[string]string{}},
		"blank":              {in: "  ", want: map[string]string{}},
		"one":                {in: "app=gw", want: map[string]string{"app": "gw"}},
		"two with spaces":    {in: " app=gw , zone = a ", want: map[string]string{"app": "gw", "zone": "a"}},
		"empty value":        {in: "app=", want: map[string]string{"app": ""}},
		"value with equals":  {in: "q=a=b", want: map[string]string{"q": "a=b"}},
		"missing equals":     {in: "app", wantErr: true},
		"empty key":          {in: "=gw", wantErr: true},
		"duplicate key":      {in: "app=a,app=b", wantErr: true},
		"trailing separator": {in: "app=a,", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("Parse(%q) error = %v, want ErrSyntax", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestFromNode(t *testing.T) {
	withLabels := func(fields map[string]*structpb.Value) *corev3.Node {
		return &corev3.Node{Metadata: &structpb.Struct{Fields: map[string]*structpb.Value{
			MetadataKey: structpb.NewStructValue(&structpb.Struct{Fields: fields}),
		}}}
	}
	tests := map[string]struct {
		node *corev3.Node
		want map[string]string
	}{
		"nil node":    {node: nil, want: map[string]string{}},
		"no metadata": {node: &corev3.Node{Id: "a"}, want: map[string]string{}},
		"labels":      {node: withLabels(map[string]*structpb.Value{"app": structpb.NewStringValue("gw")}), want: map[string]string{"app": "gw"}},
		"non-string ignored": {
			node: withLabels(map[string]*structpb.Value{"app": structpb.NewStringValue("gw"), "n": structpb.NewNumberValue(1)}),
			want: map[string]string{"app": "gw"},
		},
		"round trip": {node: &corev3.Node{Metadata: Metadata(map[string]string{"a": "1", "b": "2"})}, want: map[string]string{"a": "1", "b": "2"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, FromNode(tc.node)); diff != "" {
				t.Errorf("FromNode (-want +got):\n%s", diff)
			}
		})
	}
}
