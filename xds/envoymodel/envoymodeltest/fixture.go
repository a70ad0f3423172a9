package envoymodeltest

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/trustgate/trustgate/xds/dump"
	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/translate"
)

// A fixture is a proxy group's Envoy resources frozen as YAML, in the form
// of the pipeline's golden files: every PEM payload replaced by the labels
// of its blocks ("pem:client-ca/ca.crt#0"), so no key material is committed
// and the certificates come from the PKI of the run that loads it.

// WriteFixture freezes resources into a fixture file.
func WriteFixture(t *testing.T, p *PKI, res *translate.Resources, path string) {
	t.Helper()
	js, err := dump.JSON(res, false)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	walkInlineBytes(doc, p.Describe)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.JSONToYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, y, 0o600); err != nil {
		t.Fatal(err)
	}
}

// LoadFixture reads a fixture back, its PEM labels filled from the PKI.
func LoadFixture(t *testing.T, p *PKI, path string) *envoymodel.Resources {
	t.Helper()
	y, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	var bad error
	walkInlineBytes(doc, func(v string) string {
		out, err := p.pemOf(v)
		if err != nil && bad == nil {
			bad = err
		}
		return out
	})
	if bad != nil {
		t.Fatalf("%s: %v", path, bad)
	}
	var raw struct {
		Listeners, Routes, Clusters, Secrets []json.RawMessage
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	res := &envoymodel.Resources{}
	for _, m := range raw.Listeners {
		res.Listeners = append(res.Listeners, decode(t, m, &listenerv3.Listener{}))
	}
	for _, m := range raw.Routes {
		res.Routes = append(res.Routes, decode(t, m, &routev3.RouteConfiguration{}))
	}
	for _, m := range raw.Clusters {
		res.Clusters = append(res.Clusters, decode(t, m, &clusterv3.Cluster{}))
	}
	for _, m := range raw.Secrets {
		res.Secrets = append(res.Secrets, decode(t, m, &tlsv3.Secret{}))
	}
	return res
}

// decode unmarshals one resource from Envoy's JSON.
func decode[M proto.Message](t *testing.T, raw json.RawMessage, m M) M {
	t.Helper()
	if err := protojson.Unmarshal(raw, m); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return m
}

// walkInlineBytes rewrites every inline_bytes string of a JSON document.
func walkInlineBytes(v any, f func(string) string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "inline_bytes" {
				v[k] = f(s)
				continue
			}
			walkInlineBytes(e, f)
		}
	case []any:
		for _, e := range v {
			walkInlineBytes(e, f)
		}
	}
}

// pemOf turns block labels back into the base64 of their PEM: label
// "name/file#i" is the i-th PEM block of DIR/name/file.
func (p *PKI) pemOf(labels string) (string, error) {
	var out []byte
	for _, l := range strings.Split(labels, ",") {
		ref, ok := strings.CutPrefix(l, "pem:")
		if !ok {
			return "", fmt.Errorf("inline_bytes %q is not a PEM label", labels)
		}
		file, idx, _ := strings.Cut(ref, "#")
		n, err := strconv.Atoi(idx)
		if err != nil {
			return "", fmt.Errorf("label %q: %w", l, err)
		}
		b, err := os.ReadFile(filepath.Join(p.Dir, filepath.FromSlash(file)))
		if err != nil {
			return "", err
		}
		var blk *pem.Block
		for i := 0; i <= n; i++ {
			if blk, b = pem.Decode(b); blk == nil {
				return "", fmt.Errorf("label %q: no block %d", l, n)
			}
		}
		out = append(out, pem.EncodeToMemory(blk)...)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}
