package compile

import "github.com/trustgate/trustgate/xds/irbuild"

// Node is the proxy group Build compiles for: the labels Gateways select it
// by, and a node id that is informational only. Callers name it through this
// package, so that they need not import the builder.
type Node = irbuild.Node
