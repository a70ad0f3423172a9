package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLabels(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		"none":      {in: "", want: map[string]string{}},
		"two":       {in: "app=gw,zone=a", want: map[string]string{"app": "gw", "zone": "a"}},
		"malformed": {in: "app", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseLabels(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseLabels(%q) error = %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseLabels(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
