// Package protowalk visits every message inside a protobuf message, the
// payloads of google.protobuf.Any (Envoy's typed configs) included, in a
// stable order. It is the one walker behind translate's checks and the
// reference collection of xds/server/refs (xds/dump's redaction and its key
// scan walk by the protos' sensitive option, with their own pruning).
// It visits what google.golang.org/protobuf/reflect/protorange with Stable
// visits, in the same order, without protorange's two deterministic
// marshals of every Any payload (to detect changes), which made translate's
// checks four times slower; a walk that changes payloads asks for that with
// Walker.PackBack. A walk looking for some types only skips the fields that
// cannot hold one (Walker.Targets).
//
// It sits beside the pipeline and imports nothing of trustgate's.
package protowalk
