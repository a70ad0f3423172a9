package irbuild

import (
	"maps"
	"slices"
	"strings"
)

// domainIndex holds values under virtual host domains (exact names,
// "*.suffix" and "*") and finds those stored under any domain that shares a
// host with a given one, or that a given one covers, without comparing
// every pair: a gateway of 10,000 hosts must not make the build quadratic.
type domainIndex[T any] struct {
	byDomain map[string][]T
	// under holds, for each "*.suffix", the stored domains it covers
	// (hostCovers): those that end in ".suffix" after at least one
	// character, itself included.
	under map[string][]string
	keys  []string // every stored domain, sorted; nil until a query by "*" needs it
}

func newDomainIndex[T any]() *domainIndex[T] {
	return &domainIndex[T]{byDomain: map[string][]T{}, under: map[string][]string{}}
}

func (x *domainIndex[T]) add(domain string, v T) {
	if _, ok := x.byDomain[domain]; !ok {
		x.keys = nil
		for i := 1; i < len(domain); i++ {
			if domain[i] == '.' {
				x.under["*"+domain[i:]] = append(x.under["*"+domain[i:]], domain)
			}
		}
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
	if strings.HasPrefix(d, "*") {
		for _, k := range x.coveredKeys(d) {
			at(k)
		}
	}
}

// covered visits the values of every stored domain d covers
// (hostCovers(d, domain)), in the order of the domains' names.
func (x *domainIndex[T]) covered(d string, visit func(domain string, v T)) {
	for _, k := range x.coveredKeys(d) {
		for _, v := range x.byDomain[k] {
			visit(k, v)
		}
	}
}

// coveredKeys are the stored domains d covers, sorted.
func (x *domainIndex[T]) coveredKeys(d string) []string {
	switch {
	case d == "*":
		if x.keys == nil {
			x.keys = slices.Sorted(maps.Keys(x.byDomain))
		}
		return x.keys
	case strings.HasPrefix(d, "*."):
		ks := slices.Clone(x.under[d]) // d itself among them, when stored
		slices.Sort(ks)
		return ks
	}
	if _, ok := x.byDomain[d]; ok {
		return []string{d} // anything else covers only itself
	}
	return nil
}
