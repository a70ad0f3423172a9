// Package layers holds no code: its test enforces the dependency rules that
// the doc.go of each package states, on the whole import graph as
// `go list -deps` sees it (the linter's depguard rules see direct imports
// only). The rule the design rests on: the IR (xds/ir) imports nothing of
// trustgate's, and nothing from translate to the server depends on the model,
// so a new source of configuration or a new output needs only the IR.
//
// Test code is not checked: tests may build fixtures from any layer.
package layers
