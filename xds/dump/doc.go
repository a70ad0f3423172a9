// Package dump renders translated Envoy resources for `trustgate translate`,
// the admin page /debug/config and golden files.
//
// Pipeline position: translate -> dump (a side branch: nothing it renders
// goes to Envoy). Two layouts: Envoy's own admin.v3.ConfigDump (what
// Envoy's /config_dump serves, so tools that read Envoy config dumps read
// trustgate's output), and trustgate's document with one list per resource
// type. Every resource is printed in Envoy's JSON form (protojson, proto
// field names, Any as "@type"), with stable whitespace. Sensitive fields are
// redacted as Envoy redacts them, by the protos' udpa.annotations.sensitive
// option, unless asked for. `trustgate translate` streams both layouts
// (WriteJSON, WriteConfigDumpJSON): the bytes of JSON and ConfigDumpJSON,
// each resource rendered on its own by GOMAXPROCS workers (a long list, a
// listener's chains, by parts: split.go) and written in order, without
// holding the document, by an encoder of its own that writes protojson's
// bytes (encode.go), reusing each repeated typed config's rendering and
// redacting only a resource it finds a key in (anyjson.go).
//
// DebugHandler serves /debug/config for the server, and CheckSelected tells
// a proxy's labels that no Gateway selects from an empty configuration.
//
// This package imports translate (whose imports register every Any type it
// emits) and the server's labels package; it must not import model, irbuild
// or the server itself.
package dump
