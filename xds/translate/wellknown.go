package translate

// Extension and filter names that go-control-plane's pkg/wellknown lacks.
const (
	// setFilterStateHTTP is the HTTP set_filter_state filter.
	setFilterStateHTTP = "envoy.filters.http.set_filter_state"
	// setFilterStateNetwork is the network set_filter_state filter.
	setFilterStateNetwork = "envoy.filters.network.set_filter_state"
	// mtlsAuthenticated is the RBAC principal extension that requires a
	// presented and validated peer certificate.
	mtlsAuthenticated = "envoy.rbac.principals.mtls_authenticated"
	// httpProtocolOptions keys a cluster's typed_extension_protocol_options.
	httpProtocolOptions = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
	// previousHostsPredicate is the retry host predicate that skips the
	// endpoints a request already tried.
	previousHostsPredicate = "envoy.retry_host_predicates.previous_hosts"
	// websocketUpgrade is the upgrade type of a WebSocket handshake.
	websocketUpgrade = "websocket"
	// stringFactory makes a plain string filter-state object, readable by
	// the RBAC filter_state matcher.
	stringFactory = "envoy.string"
)
