// Package envoymodeltest runs trustgate's real pipeline on the golden
// inputs and the examples and hands their Envoy resources, with a PKI of
// client certificates to present, to the tests of package envoymodel and of
// its users. It is for tests only. Unlike envoymodel itself it imports the
// pipeline: it is the bridge that feeds the judge what translate produced.
package envoymodeltest
