package main

import "github.com/trustgate/trustgate/xds/server/labels"

// parseLabels reads a --node-labels value, "k=v,k2=v2", the way the server
// groups proxies by them.
func parseLabels(s string) (map[string]string, error) { return labels.Parse(s) }
