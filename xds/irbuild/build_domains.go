package irbuild

import (
	"slices"
	"strings"
)

// domainIndex holds values under virtual host domains (exact names,
// "*.suffix" and "*") and finds those stored under any domain that shares a
// host with a given one, without comparing every pair: a gateway of 10,000
// hosts must not make the build quadratic.
type domainIndex[T any] struct {
	byDomain map[string][]T
	keys     []string // sorted domains, for queries by a wildcard
}

func newDomainIndex[T any]() *domainIndex[T] {
	return &domainIndex[T]{byDomain: map[string][]T{}}
}

func (x *domainIndex[T]) add(domain string, v T) {
	if _, ok := x.byDomain[domain]; !ok {
		x.keys = nil
	}
	x.byDomain[domain] = append(x.byDomain[domain], v)
}

// overlapping visits the values of every stored domain that admits a host
// d admits: d itself, the wildcards covering it ("*.b.c" and "*.c", then
// "*", for "a.b.c" or "*.b.c") and, when d is a wildcard, the domains under
// it. Each stored domain is visited once, with its name.
func (x *domainIndex[T]) overlapping(d string, visit func(domain string, v T)) {
	seen := map[string]bool{}
	at := func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		for _, v := range x.byDomain[k] {
			visit(k, v)
		}
	}
	at(d)
	if d != "*" {
		rest := strings.TrimPrefix(d, "*.")
		for i := strings.IndexByte(rest, '.'); i >= 0; i = strings.IndexByte(rest, '.') {
			rest = rest[i+1:]
			at("*." + rest)
		}
		at("*")
	}
	if !strings.HasPrefix(d, "*") {
		return
	}
	if x.keys == nil {
		for k := range x.byDomain {
			x.keys = append(x.keys, k)
		}
		slices.Sort(x.keys)
	}
	for _, k := range x.keys {
		if hostCovers(d, k) {
			at(k)
		}
	}
}
