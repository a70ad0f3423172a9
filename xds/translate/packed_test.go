package translate

import (
	"errors"
	"fmt"
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/internal/anymemo"
	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

// findingTexts are a resource's findings as text, references included.
func findingTexts(fs []finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d %s %v", f.ref, f.name, f.error()))
	}
	return out
}

// unpackedFindings checks a copy of m, whose Anys toAny did not pack
// (proto.Clone makes new ones), so that every payload is unpacked and
// walked, and with the walk unpruned.
func unpackedFindings(m proto.Message) []finding {
	saved := inspected
	inspected = nil
	defer func() { inspected = saved }()
	return checkMessage(proto.Clone(m))
}

// problemHCM packs an HCM with findings inside: a route configuration
// reference, an inline route with an RE2 regex Envoy rejects, a header
// value and an access-log format with unknown commands, and a nested
// typed config (the access log) with a finding of its own.
func problemHCM(t *testing.T) *anypb.Any {
	t.Helper()
	logCfg, err := toAny(&filev3.FileAccessLog{Path: "/dev/stdout", AccessLogFormat: &filev3.FileAccessLog_LogFormat{
		LogFormat: &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormatSource{
			TextFormatSource: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "%NO_SUCH_COMMAND%\n"}},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: "p",
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name: "inline",
			VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"*"},
				RequestHeadersToAdd: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x", Value: "%NOPE%"}}},
				Routes: []*routev3.Route{{
					Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "(a"}}},
					Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "missing"}}},
				}},
			}},
		}},
		AccessLog: []*accesslogv3.AccessLog{{Name: "log", ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: logCfg}}},
	}
	a, err := toAny(hcm)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func chainListener(name string, a *anypb.Any) *listenerv3.Listener {
	return &listenerv3.Listener{Name: name, FilterChains: []*listenerv3.FilterChain{{
		Filters: []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}},
	}}}
}

// TestPackedFindingsEqualUnpacked: the findings Check takes from toAny's
// walk of each typed config are those of unpacking every Any and walking
// everything, in the same order, for the rich fixture's resources (its
// references from inside typed configs) and for typed configs holding
// problems.
func TestPackedFindingsEqualUnpacked(t *testing.T) {
	p := translatetest.RichProxy()
	var msgs []proto.Message
	for _, l := range p.Listeners {
		m, err := buildListener(l)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	for _, rc := range p.RouteConfigs {
		m, err := buildRouteConfig(rc)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	msgs = append(msgs, chainListener("problems", problemHCM(t)))
	compared := 0
	for _, m := range msgs {
		want := findingTexts(unpackedFindings(m))
		got := findingTexts(checkMessage(m))
		compared += len(want)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: findings (-unpacked +packed):\n%s", resourceName(m), d)
		}
	}
	if compared < 10 {
		t.Errorf("only %d findings compared", compared)
	}
}

// TestCheckValidatesEveryTypedConfig: a typed config that fails its
// validation rules is caught whether it was packed without toAny, or packed
// by toAny and given other bytes since; toAny itself refuses one.
func TestCheckValidatesEveryTypedConfig(t *testing.T) {
	bad := &hcmv3.HttpConnectionManager{} // stat_prefix is required
	if _, err := toAny(bad); err == nil {
		t.Error("toAny packed an HCM without a stat prefix")
	}
	badBytes, err := proto.Marshal(bad)
	if err != nil {
		t.Fatal(err)
	}
	repacked := problemHCM(t)
	repacked.Value = badBytes
	unvalidated, err := anypb.New(bad)
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]*anypb.Any{"packed without toAny": unvalidated, "given other bytes after toAny": repacked} {
		r := &Resources{Listeners: []*listenerv3.Listener{chainListener("l", a)}}
		if err := Check(r); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Check = %v, want %v", name, err, ErrInvalid)
		}
	}
}

// TestToAnyRemembersPayloads: a typed config packed again is not walked
// again, and its Any's findings are those of the first; one that fails
// validation is refused every time; the set starts again past recentMax.
func TestToAnyRemembersPayloads(t *testing.T) {
	first, second := problemHCM(t), problemHCM(t)
	if _, ok := recentPayloads.Get(recentPayloads.Hash(first.GetTypeUrl(), first.GetValue()), first.GetTypeUrl(), first.GetValue()); !ok {
		t.Fatal("the HCM toAny packed is not remembered")
	}
	f1, ok1 := takePacked(first)
	f2, ok2 := takePacked(second)
	if !ok1 || !ok2 || len(f1) == 0 {
		t.Fatalf("findings kept for the two Anys: %v, %v (%d)", ok1, ok2, len(f1))
	}
	if d := cmp.Diff(findingTexts(f1), findingTexts(f2)); d != "" {
		t.Errorf("findings (-first +second):\n%s", d)
	}
	for range 2 {
		if _, err := toAny(&hcmv3.HttpConnectionManager{}); err == nil {
			t.Error("toAny packed an HCM without a stat prefix")
		}
	}
	m := anymemo.New[[]finding](recentMax)
	for i := range recentMax + 1 {
		v := []byte(fmt.Sprint(i))
		m.Update(m.Hash("u", v), "u", v, func(*[]finding, bool) {})
	}
	if n := m.Len(); n != 1 {
		t.Errorf("after recentMax+1 payloads the memo holds %d, want 1", n)
	}
}

// TestToAnyOnce: a key builds once; each call gets an Any of its own, of
// the same bytes, with the findings kept for it; a build that fails is
// refused every time.
func TestToAnyOnce(t *testing.T) {
	builds := 0
	build := func() validatable {
		builds++
		return &filev3.FileAccessLog{Path: "/tmp/x", AccessLogFormat: &filev3.FileAccessLog_LogFormat{LogFormat: textFormat("%NO_SUCH_COMMAND%")}}
	}
	a, err := toAnyOnce(t.Name(), build)
	if err != nil {
		t.Fatal(err)
	}
	b, err := toAnyOnce(t.Name(), build)
	if err != nil {
		t.Fatal(err)
	}
	if builds != 1 || a == b || !proto.Equal(a, b) {
		t.Fatalf("builds = %d, Anys %p and %p equal: %v; want one build, two equal Anys", builds, a, b, proto.Equal(a, b))
	}
	fa, oka := takePacked(a)
	fb, okb := takePacked(b)
	if !oka || !okb || len(fa) != 1 {
		t.Fatalf("findings kept: %v %v, %d of them; want one each", oka, okb, len(fa))
	}
	if d := cmp.Diff(findingTexts(fa), findingTexts(fb)); d != "" {
		t.Errorf("findings (-first +second):\n%s", d)
	}
	for range 2 {
		if _, err := toAnyOnce(t.Name()+" bad", func() validatable { return &filev3.FileAccessLog{} }); err == nil {
			t.Error("toAnyOnce packed a file access log without a path")
		}
	}
}
