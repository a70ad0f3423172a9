package dump

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/xds/translate"
)

// fakeConfig compiles the rich fixture for any labels and lists selectors.
type fakeConfig struct {
	res       *translate.Resources
	err       error
	selectors []map[string]string
}

func (c *fakeConfig) Compile(map[string]string) (*translate.Resources, error) { return c.res, c.err }
func (c *fakeConfig) Selectors() []map[string]string                          { return c.selectors }

// plainConfig does not list its selectors: no hint can be given.
type plainConfig struct{ res *translate.Resources }

func (c plainConfig) Compile(map[string]string) (*translate.Resources, error) { return c.res, nil }

func TestDebugHandler(t *testing.T) {
	res := rich(t)
	sels := []map[string]string{{"app": "web"}, {"app": "api", "zone": "a"}}
	tests := map[string]struct {
		cfg      Compiler
		query    string
		wantCode int
		wantIn   []string
	}{
		"config dump by default": {cfg: &fakeConfig{res: res, selectors: sels}, query: "?node-labels=app=web",
			wantCode: 200, wantIn: []string{"envoy.admin.v3.ListenersConfigDump", `"[redacted]"`}},
		"more labels than the selector": {cfg: &fakeConfig{res: res, selectors: sels}, query: "?node-labels=app=api,zone=a,rack=7",
			wantCode: 200, wantIn: []string{"envoy.admin.v3.ListenersConfigDump"}},
		"resources layout as YAML": {cfg: &fakeConfig{res: res, selectors: sels}, query: "?node-labels=app=web&layout=resources&format=yaml",
			wantCode: 200, wantIn: []string{"listeners:\n", "'[redacted]'"}},
		"a typo in the labels": {cfg: &fakeConfig{res: res, selectors: sels}, query: "?node-labels=app=wbe",
			wantCode: 404, wantIn: []string{`no Gateway selects a proxy labelled "app=wbe"`, `"app=api,zone=a", "app=web"`, "?node-labels="}},
		"no labels": {cfg: &fakeConfig{res: res, selectors: sels}, query: "",
			wantCode: 404, wantIn: []string{"no Gateway selects a proxy without labels", `"app=web"`}},
		"a Gateway for every proxy": {cfg: &fakeConfig{res: res, selectors: []map[string]string{{}}}, query: "",
			wantCode: 200, wantIn: []string{"ConfigDump"}},
		"no selectors known": {cfg: plainConfig{res: res}, query: "?node-labels=app=anything",
			wantCode: 200, wantIn: []string{"ConfigDump"}},
		"compile error": {cfg: &fakeConfig{err: errors.New("vs.yaml:3: no host"), selectors: sels}, query: "?node-labels=app=web",
			wantCode: 422, wantIn: []string{"vs.yaml:3: no host"}},
		"bad labels": {cfg: &fakeConfig{res: res}, query: "?node-labels=app", wantCode: 400, wantIn: []string{"no '='"}},
		"bad layout": {cfg: &fakeConfig{res: res}, query: "?layout=istio", wantCode: 400, wantIn: []string{"layout must be"}},
		"bad format": {cfg: &fakeConfig{res: res}, query: "?format=xml", wantCode: 400, wantIn: []string{"format must be"}},
		"not loaded": {cfg: nil, query: "", wantCode: 503, wantIn: []string{"no configuration loaded yet"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := DebugHandler(func() Compiler { return tc.cfg })
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/config"+tc.query, nil))
			body, err := io.ReadAll(rec.Result().Body)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.wantCode {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.wantCode, body)
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(string(body), w) {
					t.Errorf("body lacks %q:\n%.400s", w, body)
				}
			}
			if strings.Contains(string(body), "PRIVATE KEY") {
				t.Errorf("the page shows a private key")
			}
		})
	}
}
