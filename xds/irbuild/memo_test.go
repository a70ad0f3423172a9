package irbuild

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/model"
)

// movedConfig is a Gateway of two servers, each with its VirtualService,
// and for host a, a second VirtualService whose route the first one's
// shadows (a warning naming both by file and line); pad comment lines sit
// between the Secret and the rest, moving every document but the Secret.
func movedConfig(pad int) string {
	secret, rest, _ := strings.Cut(gatewayHeader, "---\n")
	var sb strings.Builder
	sb.WriteString(secret + "---\n" + strings.Repeat("# moved\n", pad) + rest)
	for _, h := range []string{"a", "b"} {
		fmt.Fprintf(&sb, "  - name: %s\n    port: {number: 443, name: https-%s, protocol: HTTPS}\n    hosts: [%s.example.com]\n    tls: {mode: SIMPLE, credentialName: cred}\n", h, h, h)
	}
	for _, vs := range []struct{ name, host string }{{"a1", "a"}, {"a2", "a"}, {"b", "b"}} {
		fmt.Fprintf(&sb, "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: %s, namespace: gw, creationTimestamp: \"2026-01-0%dT00:00:00Z\"}\nspec:\n  hosts: [%s.example.com]\n  gateways: [gw/gw]\n  http:\n  - route:\n    - destination: {host: %s.svc, port: {number: 8080}}\n",
			vs.name, len(vs.name), vs.host, vs.name)
	}
	return sb.String()
}

// TestMemoMovedDocuments: a server whose Gateway and VirtualServices only
// moved is taken from the memo when its record holds no message (server
// b), and built again when it does (server a: its warning names lines),
// and every build is what a build without the memo gives, warnings with
// their lines included.
func TestMemoMovedDocuments(t *testing.T) {
	memo := NewMemo()
	records := func() map[*serverRecord]string {
		out := map[*serverRecord]string{}
		memo.entries.Each(func(k serverKey, e *serverBuild) { out[e.rec] = e.rec.server.key })
		return out
	}
	var before map[*serverRecord]string
	path := filepath.Join(t.TempDir(), "config.yaml")
	for i, pad := range []int{0, 3, 3, 7} {
		if err := os.WriteFile(path, []byte(movedConfig(pad)), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := model.Load(model.LoadOptions{Paths: []string{path}})
		if err != nil {
			t.Fatal(err)
		}
		cold, coldFindings, coldErr := buildWithWorkers(cfg, ingress, 1, nil)
		warm, warmFindings, warmErr := buildWithWorkers(cfg, ingress, 2, memo)
		if coldErr != nil || warmErr != nil {
			t.Fatalf("build %d: %v / %v", i, coldErr, warmErr)
		}
		if d := cmp.Diff(cold, warm); d != "" {
			t.Errorf("build %d (pad %d): IR (-cold +memo):\n%s", i, pad, d)
		}
		if got, want := fmt.Sprint(warmFindings), fmt.Sprint(coldFindings); got != want {
			t.Errorf("build %d (pad %d): findings\n%s\nwant\n%s", i, pad, got, want)
		}
		if !strings.Contains(fmt.Sprint(coldFindings), "never used") {
			t.Fatalf("build %d: no shadowed-route warning: %v", i, coldFindings)
		}
		if err := MemoPristine(memo, cfg, ingress); err != nil {
			t.Error(err)
		}
		after := records()
		if i > 0 {
			var kept []string
			for r, key := range after {
				if _, ok := before[r]; ok {
					kept = append(kept, key)
				}
			}
			if got := fmt.Sprint(kept); got != "[gw.gw.b]" {
				t.Errorf("build %d (pad %d): records taken from the memo %s, want [gw.gw.b]", i, pad, got)
			}
		}
		before = after
	}
}
