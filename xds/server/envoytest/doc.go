// Package envoytest is a fake Envoy for tests: a real gRPC ADS client, SotW or
// delta, that behaves like Envoy does towards a control plane. It sends its
// node with labels, subscribes to all listeners and clusters, follows the
// route, endpoint and secret names they reference (unpacking every Any), asks
// for listeners only once its clusters' endpoints and secrets arrived (as
// Envoy's cluster warming does), ACKs every response or NACKs it when a hook
// says so, records every response, and can reconnect presenting what it
// holds (SotW version_info and names; delta initial_resource_versions).
// Tests wait on conditions with timeouts; nothing here sleeps.
//
// Pipeline position: outside the pipeline, on Envoy's side of ADS. It must
// not import the model, the IR, the translator or the server package (only
// its refs helper, to follow references as Envoy does, and its labels
// helper, to announce labels as a bootstrap does); it talks to the server
// only over gRPC.
package envoytest
