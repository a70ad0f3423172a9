package translate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	celv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/trustgate/trustgate/internal/envoyfmt"
	"github.com/trustgate/trustgate/xds/ir"
)

// Access-log extension names that go-control-plane's pkg/wellknown lacks.
const (
	stdoutAccessLog    = "envoy.access_loggers.stdout"
	stderrAccessLog    = "envoy.access_loggers.stderr"
	celAccessLogFilter = "envoy.access_loggers.extension_filters.cel"
)

// requestLogJSON are the fields of a request's access-log entry: Envoy's
// default fields, and what mutual TLS adds: the peer certificate's
// subject, issuer, URI SAN, serial and fingerprint, the SNI, the TLS
// version and cipher, and the filter chain (the server) that took the
// connection. "event" tells request entries from connection entries.
var requestLogJSON = map[string]string{
	"event":                             "request",
	"start_time":                        "%START_TIME%",
	"method":                            "%REQ(:METHOD)%",
	"path":                              "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
	"protocol":                          "%PROTOCOL%",
	"authority":                         "%REQ(:AUTHORITY)%",
	"response_code":                     "%RESPONSE_CODE%",
	"response_flags":                    "%RESPONSE_FLAGS%",
	"response_code_details":             "%RESPONSE_CODE_DETAILS%",
	"connection_termination_details":    "%CONNECTION_TERMINATION_DETAILS%",
	"bytes_received":                    "%BYTES_RECEIVED%",
	"bytes_sent":                        "%BYTES_SENT%",
	"duration":                          "%DURATION%",
	"upstream_service_time":             "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
	"x_forwarded_for":                   "%REQ(X-FORWARDED-FOR)%",
	"user_agent":                        "%REQ(USER-AGENT)%",
	"request_id":                        "%REQ(X-REQUEST-ID)%",
	"upstream_host":                     "%UPSTREAM_HOST%",
	"upstream_cluster":                  "%UPSTREAM_CLUSTER%",
	"upstream_transport_failure_reason": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
	"route_name":                        "%ROUTE_NAME%",
	"filter_chain_name":                 "%FILTER_CHAIN_NAME%",
	"downstream_remote_address":         "%DOWNSTREAM_REMOTE_ADDRESS%",
	"downstream_local_address":          "%DOWNSTREAM_LOCAL_ADDRESS%",
	"requested_server_name":             "%REQUESTED_SERVER_NAME%",
	"tls_version":                       "%DOWNSTREAM_TLS_VERSION%",
	"tls_cipher":                        "%DOWNSTREAM_TLS_CIPHER%",
	"peer_subject":                      "%DOWNSTREAM_PEER_SUBJECT%",
	"peer_issuer":                       "%DOWNSTREAM_PEER_ISSUER%",
	"peer_uri_san":                      "%DOWNSTREAM_PEER_URI_SAN%",
	"peer_serial":                       "%DOWNSTREAM_PEER_SERIAL%",
	"peer_fingerprint_256":              "%DOWNSTREAM_PEER_FINGERPRINT_256%",
}

// connectionLogJSON are the fields of a refused connection's entry: who
// connected, to which SNI, and why the handshake failed
// (%DOWNSTREAM_TRANSPORT_FAILURE_REASON%, e.g. BoringSSL's
// CERTIFICATE_VERIFY_FAILED or PEER_DID_NOT_RETURN_A_CERTIFICATE), or that
// no filter chain matched (response flag NR, details
// filter_chain_not_found).
var connectionLogJSON = map[string]string{
	"event":                          "connection",
	"start_time":                     "%START_TIME%",
	"downstream_remote_address":      "%DOWNSTREAM_REMOTE_ADDRESS%",
	"downstream_local_address":       "%DOWNSTREAM_LOCAL_ADDRESS%",
	"requested_server_name":          "%REQUESTED_SERVER_NAME%",
	"filter_chain_name":              "%FILTER_CHAIN_NAME%",
	"transport_failure_reason":       "%DOWNSTREAM_TRANSPORT_FAILURE_REASON%",
	"response_flags":                 "%RESPONSE_FLAGS%",
	"response_code_details":          "%RESPONSE_CODE_DETAILS%",
	"connection_termination_details": "%CONNECTION_TERMINATION_DETAILS%",
	"duration":                       "%DURATION%",
	"bytes_received":                 "%BYTES_RECEIVED%",
	"bytes_sent":                     "%BYTES_SENT%",
}

// requestLogText is the TEXT request line: Envoy's default format
// (docs: observability/access_log/usage, default format string), then the
// other fields of requestLogJSON.
const requestLogText = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ` +
	`%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% ` +
	`"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" ` +
	`%RESPONSE_CODE_DETAILS% %UPSTREAM_CLUSTER% %ROUTE_NAME% %FILTER_CHAIN_NAME% ` +
	`peer=%DOWNSTREAM_REMOTE_ADDRESS% local=%DOWNSTREAM_LOCAL_ADDRESS% sni="%REQUESTED_SERVER_NAME%" ` +
	`%DOWNSTREAM_TLS_VERSION% %DOWNSTREAM_TLS_CIPHER% subject="%DOWNSTREAM_PEER_SUBJECT%" issuer="%DOWNSTREAM_PEER_ISSUER%" ` +
	`uri_san="%DOWNSTREAM_PEER_URI_SAN%" serial=%DOWNSTREAM_PEER_SERIAL% fingerprint=%DOWNSTREAM_PEER_FINGERPRINT_256% ` +
	`upstream_failure="%UPSTREAM_TRANSPORT_FAILURE_REASON%" termination="%CONNECTION_TERMINATION_DETAILS%"` + "\n"

// connectionLogText is the TEXT line of a refused connection, with the
// fields of connectionLogJSON.
const connectionLogText = `[%START_TIME%] connection %DOWNSTREAM_REMOTE_ADDRESS% -> %DOWNSTREAM_LOCAL_ADDRESS% ` +
	`sni="%REQUESTED_SERVER_NAME%" %FILTER_CHAIN_NAME% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% ` +
	`"%DOWNSTREAM_TRANSPORT_FAILURE_REASON%" termination="%CONNECTION_TERMINATION_DETAILS%" ` +
	`%DURATION% %BYTES_RECEIVED% %BYTES_SENT%` + "\n"

// requestAccessLogs is an HTTP connection manager's access log: one entry
// per request, local replies (421, the rejection) included.
func requestAccessLogs(a *ir.AccessLog) ([]*accesslogv3.AccessLog, error) {
	if a == nil {
		return nil, nil
	}
	format := func() *corev3.SubstitutionFormatString {
		switch {
		case a.Encoding == ir.AccessLogText && a.Text != "":
			return textFormat(a.Text)
		case a.Encoding == ir.AccessLogText:
			return textFormat(requestLogText)
		case a.JSON != nil:
			return jsonFormat(a.JSON)
		}
		return jsonFormat(requestLogJSON)
	}
	l, err := accessLogger("request", a, format, nil)
	if err != nil {
		return nil, err
	}
	return []*accesslogv3.AccessLog{l}, nil
}

// connectionAccessLogs is a TLS listener's access log. Envoy logs every
// connection with the listener's access logs when it ends
// (ActiveTcpConnection's destructor calls ActiveStreamListenerBase::
// emitLogs, source/common/listener_manager/active_stream_listener_base.cc),
// and also one that no filter chain matched (newConnection, with response
// flag NR and details filter_chain_not_found). Requests are logged by the
// connection manager, so the filter keeps only what it never sees: no
// matching chain, and a failed handshake, whose reason onEvent stores in
// the stream info before the connection is destroyed
// (setDownstreamTransportFailureReason). The CEL attribute
// connection.transport_failure_reason is absent when there was none
// (ConnectionLookupValues in source/extensions/filters/common/expr/
// context.cc), which makes the comparison an error, and the CEL filter
// logs nothing for an error (CELAccessLogExtensionFilter::evaluate).
func connectionAccessLogs(a *ir.AccessLog) ([]*accesslogv3.AccessLog, error) {
	if a == nil {
		return nil, nil
	}
	format := func() *corev3.SubstitutionFormatString {
		if a.Encoding == ir.AccessLogText {
			return textFormat(connectionLogText)
		}
		return jsonFormat(connectionLogJSON)
	}
	filter, err := refusedConnectionFilter()
	if err != nil {
		return nil, err
	}
	l, err := accessLogger("connection", a, format, filter)
	if err != nil {
		return nil, err
	}
	return []*accesslogv3.AccessLog{l}, nil
}

// refusedConnectionFilter matches a connection that no chain took (NR) or
// whose TLS handshake failed.
func refusedConnectionFilter() (*accesslogv3.AccessLogFilter, error) {
	cel, err := toAny(&celv3.ExpressionFilter{Expression: "connection.transport_failure_reason != ''"})
	if err != nil {
		return nil, err
	}
	return &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_OrFilter{OrFilter: &accesslogv3.OrFilter{
		Filters: []*accesslogv3.AccessLogFilter{
			{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{Flags: []string{"NR"}}}},
			{FilterSpecifier: &accesslogv3.AccessLogFilter_ExtensionFilter{ExtensionFilter: &accesslogv3.ExtensionFilter{
				Name: celAccessLogFilter, ConfigType: &accesslogv3.ExtensionFilter_TypedConfig{TypedConfig: cel},
			}}},
		},
	}}}, nil
}

// accessLogger writes a's entries of a kind (request or connection) with
// format: Envoy's stdout and stderr loggers for /dev/stdout and
// /dev/stderr, the file logger otherwise. The logger's typed config is a
// function of the kind and a, so it is built and packed once per kind and
// content key of a (toAnyOnce): a key of every field, not a hand-picked
// few that a new field of ir.AccessLog could slip past.
func accessLogger(kind string, a *ir.AccessLog, format func() *corev3.SubstitutionFormatString, filter *accesslogv3.AccessLogFilter) (*accesslogv3.AccessLog, error) {
	path := a.Path
	k, err := contentKey(a)
	if err != nil {
		return nil, err
	}
	var name string
	var cfg func(*corev3.SubstitutionFormatString) validatable
	switch path {
	case "/dev/stdout":
		name, cfg = stdoutAccessLog, func(f *corev3.SubstitutionFormatString) validatable {
			return &streamv3.StdoutAccessLog{AccessLogFormat: &streamv3.StdoutAccessLog_LogFormat{LogFormat: f}}
		}
	case "/dev/stderr":
		name, cfg = stderrAccessLog, func(f *corev3.SubstitutionFormatString) validatable {
			return &streamv3.StderrAccessLog{AccessLogFormat: &streamv3.StderrAccessLog_LogFormat{LogFormat: f}}
		}
	default:
		name, cfg = wellknown.FileAccessLog, func(f *corev3.SubstitutionFormatString) validatable {
			return &filev3.FileAccessLog{Path: path, AccessLogFormat: &filev3.FileAccessLog_LogFormat{LogFormat: f}}
		}
	}
	typed, err := toAnyOnce(kind+"\x00"+string(k[:]), func() validatable { return cfg(format()) })
	if err != nil {
		return nil, fmt.Errorf("access log %s: %w", name, err)
	}
	return &accesslogv3.AccessLog{Name: name, Filter: filter, ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: typed}}, nil
}

// textFormat is a text format; a line without a newline gets one, as
// Istio adds it.
func textFormat(s string) *corev3.SubstitutionFormatString {
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: inlineString(s)}}
}

// jsonFormat is a JSON format of text fields.
func jsonFormat(fields map[string]string) *corev3.SubstitutionFormatString {
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(fields))}
	for k, v := range fields {
		s.Fields[k] = structpb.NewStringValue(v)
	}
	return &corev3.SubstitutionFormatString{Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: s}}
}

// formats checks every %COMMAND% of an access-log format: a text format,
// or each text value of a JSON format, nested objects included.
func (c *checker) formats(f *corev3.SubstitutionFormatString) {
	var values []string
	switch {
	case f.GetJsonFormat() != nil:
		values = structTexts(f.GetJsonFormat(), values)
	case f.GetTextFormatSource() != nil:
		values = append(values, f.GetTextFormatSource().GetInlineString())
	default:
		// Envoy still formats the deprecated text_format
		// (SubstitutionFormatStringUtils::fromProtoConfig,
		// source/common/formatter/substitution_format_string.h), so a
		// format there is checked like any other.
		values = append(values, f.GetTextFormat()) //nolint:staticcheck // SA1019: Envoy honours it
	}
	for _, v := range values {
		if err := envoyfmt.Check(v); err != nil {
			c.fail("access log format", err)
		}
	}
}

// structTexts appends the text values of s, depth first in key order.
func structTexts(s *structpb.Struct, out []string) []string {
	for _, k := range slices.Sorted(maps.Keys(s.GetFields())) {
		switch v := s.GetFields()[k].GetKind().(type) {
		case *structpb.Value_StringValue:
			out = append(out, v.StringValue)
		case *structpb.Value_StructValue:
			out = structTexts(v.StructValue, out)
		}
	}
	return out
}
