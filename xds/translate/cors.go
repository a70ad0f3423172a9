package translate

import (
	"strconv"
	"strings"

	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// corsFilter is the CORS HTTP filter; the policies live per route (the
// vhost/route `cors` fields are deprecated).
func corsFilter() (*hcmv3.HttpFilter, error) {
	return httpFilter(wellknown.CORS, &corsv3.Cors{})
}

// corsPolicy is a route's CORS policy, packed for typed_per_filter_config.
func corsPolicy(c *ir.CORS) (*anypb.Any, error) {
	origins, err := stringMatchers(c.AllowOrigins)
	if err != nil {
		return nil, err
	}
	p := &corsv3.CorsPolicy{
		AllowOriginStringMatch: origins,
		AllowMethods:           strings.Join(c.AllowMethods, ","),
		AllowHeaders:           strings.Join(c.AllowHeaders, ","),
		ExposeHeaders:          strings.Join(c.ExposeHeaders, ","),
	}
	if c.MaxAge != nil {
		p.MaxAge = strconv.FormatInt(int64(c.MaxAge.Seconds()), 10)
	}
	if c.AllowCredentials != nil {
		p.AllowCredentials = wrapperspb.Bool(*c.AllowCredentials)
	}
	return toAny(p)
}
