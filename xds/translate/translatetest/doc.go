// Package translatetest holds IR fixtures for tests of package translate and
// of its consumers (dump, server). It is for tests only: nothing in the
// pipeline imports it. It imports ir and nothing else of trustgate.
package translatetest
