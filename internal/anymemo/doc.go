// Package anymemo is a map keyed by a typed config's type URL and bytes,
// the key of whatever is a pure function of an Any's content: translate
// remembers the findings of payloads it packed (recent.go), the config dump
// how repeated typed configs render (xds/dump, anyjson.go).
//
// It imports only the standard library.
package anymemo
