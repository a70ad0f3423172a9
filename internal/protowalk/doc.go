// Package protowalk visits every message inside a protobuf message, the
// payloads of google.protobuf.Any (Envoy's typed configs) included, in a
// stable order. It is the one walker behind translate's checks, the
// reference collection of xds/server/refs and the key redaction of xds/dump,
// built on google.golang.org/protobuf/reflect/protorange.
//
// It sits beside the pipeline and imports nothing of trustgate's.
package protowalk
