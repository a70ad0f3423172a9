package xdstls

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePolicy(t *testing.T) {
	tests := map[string]struct {
		yaml    string
		entries int
		wantErr string // substring; "" for success
	}{
		"exact and prefix": {
			yaml:    "- identity: spiffe://example.org/gw/edge-1\n  labels: {app: edge}\n- identity: spiffe://example.org/gw/internal-*\n  labels: {app: internal, zone: \"1\"}\n",
			entries: 2,
		},
		"no labels is the empty label set": {yaml: "- identity: gw-a\n", entries: 1},
		"numbers are strings":              {yaml: "- identity: gw-a\n  labels: {zone: 1}\n", entries: 1},
		"empty file":                       {yaml: "", wantErr: "authz.yaml: no entries"},
		"empty list":                       {yaml: "[]\n", wantErr: "authz.yaml:1: no entries"},
		"a mapping at the top":             {yaml: "identity: gw-a\n", wantErr: "authz.yaml:1: want a list"},
		"unknown field":                    {yaml: "- identity: gw-a\n  label: {app: x}\n", wantErr: "authz.yaml:1: unknown field \"label\""},
		"no identity":                      {yaml: "- labels: {app: x}\n", wantErr: "authz.yaml:1: identity is required"},
		"star inside":                      {yaml: "- identity: ok\n- identity: spiffe://*/gw\n", wantErr: "authz.yaml:2: identity \"spiffe://*/gw\""},
		"empty label key":                  {yaml: "- identity: gw\n  labels: {\"\": x}\n", wantErr: "authz.yaml:1: a label has an empty key"},
		"labels not a map":                 {yaml: "- identity: gw\n  labels: [a]\n", wantErr: "authz.yaml:1:"},
		"not YAML":                         {yaml: "- identity: [\n", wantErr: "authz.yaml:"},
		"entry not a mapping":              {yaml: "- gw-a\n", wantErr: "authz.yaml:1: an entry must be a mapping"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := ParsePolicy("authz.yaml", []byte(tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrPolicy) {
					t.Fatalf("error %v, want ErrPolicy containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.entries) != tc.entries {
				t.Errorf("%d entries, want %d", len(p.entries), tc.entries)
			}
		})
	}
}

func TestPolicyAllows(t *testing.T) {
	p, err := ParsePolicy("authz.yaml", []byte(`
- identity: spiffe://example.org/gw/edge-1
  labels: {app: edge}
- identity: spiffe://example.org/gw/internal-*
  labels: {app: internal}
- identity: spiffe://example.org/gw/internal-2
  labels: {app: internal, canary: "true"}
- identity: bare
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		identity string
		labels   map[string]string
		want     bool
	}{
		"exact":                           {identity: "spiffe://example.org/gw/edge-1", labels: map[string]string{"app": "edge"}, want: true},
		"exact, other labels":             {identity: "spiffe://example.org/gw/edge-1", labels: map[string]string{"app": "internal"}},
		"exact, a label more":             {identity: "spiffe://example.org/gw/edge-1", labels: map[string]string{"app": "edge", "x": "y"}},
		"exact, no labels":                {identity: "spiffe://example.org/gw/edge-1"},
		"exact is not a prefix":           {identity: "spiffe://example.org/gw/edge-10", labels: map[string]string{"app": "edge"}},
		"prefix":                          {identity: "spiffe://example.org/gw/internal-7", labels: map[string]string{"app": "internal"}, want: true},
		"prefix, empty rest":              {identity: "spiffe://example.org/gw/internal-", labels: map[string]string{"app": "internal"}, want: true},
		"second matching entry":           {identity: "spiffe://example.org/gw/internal-2", labels: map[string]string{"app": "internal", "canary": "true"}, want: true},
		"first matching entry still good": {identity: "spiffe://example.org/gw/internal-2", labels: map[string]string{"app": "internal"}, want: true},
		"no entry":                        {identity: "spiffe://example.org/other", labels: map[string]string{"app": "edge"}},
		"empty labels allowed":            {identity: "bare", want: true},
		"empty labels only":               {identity: "bare", labels: map[string]string{"app": "edge"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := p.Allows(tc.identity, tc.labels); got != tc.want {
				t.Errorf("Allows(%q, %v) = %v, want %v", tc.identity, tc.labels, got, tc.want)
			}
		})
	}
}
