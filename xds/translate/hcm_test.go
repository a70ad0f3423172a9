package translate

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// baseHCM is the HCM every HTTP chain gets, before its own settings.
func baseHCM(t *testing.T, routes string) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{
		StatPrefix: "s",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource: ads(), RouteConfigName: routes,
		}},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})},
		}},
		UseRemoteAddress:             wrapperspb.Bool(false),
		NormalizePath:                wrapperspb.Bool(true),
		MergeSlashes:                 true,
		PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT,
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{
			HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST,
			IdleTimeout:                  durationpb.New(time.Hour),
		},
		Http2ProtocolOptions:  edgeHTTP2(),
		StreamIdleTimeout:     durationpb.New(5 * time.Minute),
		RequestHeadersTimeout: durationpb.New(10 * time.Second),
		StripTrailingHostDot:  true,
		// WebSocket handshakes pass, as on Istio's gateways.
		UpgradeConfigs: []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: "websocket"}},
	}
}

func TestBuildHCM(t *testing.T) {
	tests := map[string]struct {
		in      *ir.Chain
		want    func(*hcmv3.HttpConnectionManager)
		wantErr bool
	}{
		"defaults": {
			in:   &ir.Chain{HTTP: &ir.HTTPChain{StatPrefix: "s", RouteConfig: "r"}},
			want: func(*hcmv3.HttpConnectionManager) {},
		},
		"edge: remote address, XFCC, max connection duration": {
			in: &ir.Chain{
				MaxConnectionDuration: 10 * time.Minute,
				HTTP: &ir.HTTPChain{
					StatPrefix: "s", RouteConfig: "r", UseRemoteAddress: true,
					XFCC: &ir.XFCC{Mode: ir.XFCCSanitizeSet, Subject: true, URI: true, Cert: true, Chain: true, DNS: true},
				},
			},
			want: func(m *hcmv3.HttpConnectionManager) {
				m.UseRemoteAddress = wrapperspb.Bool(true)
				m.ForwardClientCertDetails = hcmv3.HttpConnectionManager_SANITIZE_SET
				m.SetCurrentClientCertDetails = &hcmv3.HttpConnectionManager_SetCurrentClientCertDetails{
					Subject: wrapperspb.Bool(true), Uri: true, Cert: true, Chain: true, Dns: true,
				}
				m.CommonHttpProtocolOptions.MaxConnectionDuration = durationpb.New(10 * time.Minute)
				m.CommonHttpProtocolOptions.MaxStreamDuration = durationpb.New(10 * time.Minute)
			},
		},
		"XFCC mode without details": {
			in: &ir.Chain{HTTP: &ir.HTTPChain{StatPrefix: "s", RouteConfig: "r", XFCC: &ir.XFCC{Mode: ir.XFCCForwardOnly}}},
			want: func(m *hcmv3.HttpConnectionManager) {
				m.ForwardClientCertDetails = hcmv3.HttpConnectionManager_FORWARD_ONLY
			},
		},
		"unknown XFCC mode": {in: &ir.Chain{HTTP: &ir.HTTPChain{StatPrefix: "s", RouteConfig: "r", XFCC: &ir.XFCC{Mode: "COPY"}}}, wantErr: true},
		"empty stat prefix": {in: &ir.Chain{HTTP: &ir.HTTPChain{RouteConfig: "r"}}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildHCM(tc.in)
			wantErr(t, err, tc.wantErr)
			var want *listenerv3.Filter
			if !tc.wantErr {
				m := baseHCM(t, "r")
				tc.want(m)
				want = &listenerv3.Filter{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, m)}}
			}
			diffProto(t, want, got)
		})
	}
}

// TestHTTPFilterOrder checks the one place that orders HTTP filters.
func TestHTTPFilterOrder(t *testing.T) {
	certRule := ir.AuthzRule{Name: "c", When: []ir.Condition{{Key: ir.CondCertIssuer, Values: []ir.StringMatch{{Exact: "CN=ca"}}}}}
	sanRule := ir.AuthzRule{Name: "s", When: []ir.Condition{{Key: ir.CondCertDNSSAN, Values: []ir.StringMatch{{Exact: "a"}}}}}
	tests := map[string]struct {
		rbac *ir.RBAC
		cors bool
		want []string
	}{
		"router only": {want: []string{"envoy.filters.http.router"}},
		"cors":        {cors: true, want: []string{"envoy.filters.http.cors", "envoy.filters.http.router"}},
		"deny and allow with a certificate field": {
			rbac: &ir.RBAC{Deny: []ir.AuthzRule{certRule}, Allow: []ir.AuthzRule{sanRule}, HasAllow: true}, cors: true,
			want: []string{"envoy.filters.http.set_filter_state", "envoy.filters.http.rbac", "envoy.filters.http.rbac", "envoy.filters.http.cors", "envoy.filters.http.router"},
		},
		"SAN conditions need no filter state": {
			rbac: &ir.RBAC{Allow: []ir.AuthzRule{sanRule}, HasAllow: true},
			want: []string{"envoy.filters.http.rbac", "envoy.filters.http.router"},
		},
		"empty RBAC adds nothing": {rbac: &ir.RBAC{}, want: []string{"envoy.filters.http.router"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs, err := httpFilters(&ir.Chain{RBAC: tc.rbac, HTTP: &ir.HTTPChain{CORS: tc.cors}})
			wantErr(t, err, false)
			var got []string
			for _, f := range fs {
				got = append(got, f.GetName())
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("filter order (-want +got):\n%s", d)
			}
		})
	}
}

// TestConnectionBoundEndsStreams checks that maxConnectionDuration bounds
// streams too. HCM max_connection_duration only starts a drain; Envoy closes
// the connection once its streams end, so a WebSocket, gRPC stream or long
// download would outlive the bound without max_stream_duration.
func TestConnectionBoundEndsStreams(t *testing.T) {
	tests := map[string]struct {
		bound time.Duration
		want  *durationpb.Duration // both durations
	}{
		"no bound":   {},
		"15 minutes": {bound: 15 * time.Minute, want: durationpb.New(15 * time.Minute)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := commonHTTPOptions(&ir.Chain{MaxConnectionDuration: tc.bound})
			diffProto(t, tc.want, o.GetMaxConnectionDuration())
			diffProto(t, tc.want, o.GetMaxStreamDuration())
		})
	}
}
