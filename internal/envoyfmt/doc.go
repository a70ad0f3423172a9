// Package envoyfmt checks values that Envoy parses with its substitution
// formatter (header values in route configurations): the %COMMAND%
// syntax, and that every command is one Envoy knows. Envoy's
// SubstitutionFormatParser fails the whole route configuration for an
// unknown command ("Not supported field in StreamInfo",
// source/common/formatter/substitution_formatter.cc, parseFormat).
//
// model uses it to report user errors at their field; xds/translate's
// Check uses it as the last guard on everything it emits. It imports
// nothing of trustgate's but internal/suggest, for its "did you mean".
package envoyfmt
