// Package labels reads and writes the proxy labels that group Envoys: a
// string map carried in the node metadata field "labels". Their canonical
// key is labelset.Key.
//
// Pipeline position: beside the ADS server. The bootstrap generator writes the
// labels into node metadata, the server reads them back to pick a proxy
// group, and the CLI parses them from flags. It imports only the core
// protos; it must not import the model, the IR or the translator.
package labels
