// Package refs finds the names by which listeners and clusters reference the
// resources Envoy fetches separately over ADS: route configurations (RDS),
// endpoint assignments (EDS) and secrets (SDS).
//
// Pipeline position: after translate, before the snapshot. The server uses it
// to refuse snapshots whose references do not match their resources, and the
// fake Envoy in envoytest uses it to follow references the way Envoy does.
// It walks protos generically with internal/protowalk (unpacking every Any),
// so it needs no knowledge of the translator; it must not import the model,
// the IR or the translator.
package refs
