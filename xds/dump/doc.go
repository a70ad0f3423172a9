// Package dump renders translated Envoy resources as one JSON or YAML
// document, for `trustgate translate`, the server's /debug/config admin
// endpoint and golden files.
//
// Pipeline position: translate -> dump, a side branch. Every resource is
// printed in Envoy's own JSON form (protojson, proto field names, Any as
// "@type"), with stable whitespace and private keys redacted unless asked
// for. This package imports translate (whose imports register every Any type
// it emits) and must not import model, irbuild or the server.
package dump
