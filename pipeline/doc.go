// Package pipeline runs the whole translation for one loaded configuration:
// model.Load -> Config.Validate -> irbuild.Build -> translate.Translate (which
// checks its own output). It is the only package that sees both the model
// and Envoy resources; cmd/trustgate and the server use it, and it must not
// import xds/server or do any I/O after Load.
package pipeline
