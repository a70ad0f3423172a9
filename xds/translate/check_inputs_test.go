package translate

import (
	"errors"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/internal/envoyfmt"
	"github.com/trustgate/trustgate/internal/re2size"
	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

// directBody makes route i of the main HTTPS route configuration a direct
// response with an n-byte body.
func directBody(t *testing.T, r *Resources, i, n int) {
	firstRoute(t, r, i).Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
		Status: 200,
		Body:   &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: strings.Repeat("a", n)}},
	}}
}

// TestCheckEnvoyInputs covers inputs that pass protoc-gen-validate but that
// Envoy rejects when it builds the route configuration.
func TestCheckEnvoyInputs(t *testing.T) {
	tests := map[string]struct {
		brk     func(*testing.T, *Resources)
		want    error
		wantMsg string
	}{
		"regex over the RE2 program size limit": {
			brk: func(t *testing.T, r *Resources) {
				firstRoute(t, r, 1).GetMatch().GetSafeRegex().Regex = "/[a-z0-9]{1,1000}"
			},
			want:    re2size.ErrTooBig,
			wantMsg: "RE2 program size of 3004; Envoy accepts at most 1000",
		},
		"unknown formatter command": {
			brk: func(t *testing.T, r *Resources) {
				firstRoute(t, r, 1).RequestHeadersToAdd = []*corev3.HeaderValueOption{{
					Header: &corev3.HeaderValue{Key: "x-nick", Value: "%DOWNSTREAM_PEER_NICKNAME%"},
				}}
			},
			want:    envoyfmt.ErrUnknownCommand,
			wantMsg: `header "x-nick"`,
		},
		"direct response body over the default 4096 bytes": {
			brk:     func(t *testing.T, r *Resources) { directBody(t, r, 1, 4097) },
			want:    ErrDirectResponseBody,
			wantMsg: "4097 bytes; the route configuration allows 4096",
		},
		"direct response body over the configured limit": {
			brk: func(t *testing.T, r *Resources) {
				directBody(t, r, 1, 5001)
				find(t, r.Routes, translatetest.HTTPSRoutes).MaxDirectResponseBodySizeBytes = wrapperspb.UInt32(5000)
			},
			want:    ErrDirectResponseBody,
			wantMsg: "5001 bytes; the route configuration allows 5000",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := rich(t)
			tc.brk(t, r)
			err := Check(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Check = %v; want an error wrapping %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Check = %v; want it to say %q", err, tc.wantMsg)
			}
		})
	}
	t.Run("body within a raised limit", func(t *testing.T) {
		r := rich(t)
		directBody(t, r, 1, 5000)
		find(t, r.Routes, translatetest.HTTPSRoutes).MaxDirectResponseBodySizeBytes = wrapperspb.UInt32(5000)
		if err := Check(r); err != nil {
			t.Fatalf("Check: %v", err)
		}
	})
}
