package translate

import "fmt"

// refKind is the kind of resource a finding needs to exist; refNone: the
// finding stands on its own.
type refKind uint8

const (
	refNone refKind = iota
	refCluster
	refRoute
	refSecret
	refEndpoints
)

// finding is one problem of one resource, or one reference it makes
// (ref, name), which is a problem only when no resource of that kind and
// name is in the set: that is decided by report, against the set being
// checked, so a resource's findings do not depend on the other resources
// and can be kept with it across builds (Cache).
type finding struct {
	where, what string
	err         error
	ref         refKind
	name        string
}

// error is the finding's text: "where: what: err".
func (f finding) error() error {
	what, err := f.what, f.err
	switch f.ref {
	case refCluster:
		what, err = fmt.Sprintf("cluster %q", f.name), ErrMissingCluster
	case refRoute:
		what, err = fmt.Sprintf("route config %q", f.name), ErrMissingRoute
	case refSecret:
		what, err = fmt.Sprintf("secret %q", f.name), ErrMissingSecret
	case refEndpoints:
		what, err = fmt.Sprintf("endpoints %q", f.name), ErrMissingEndpoints
	}
	return fmt.Errorf("%s: %s: %w", f.where, what, err)
}

// nameSets are the names of the resources being checked, by kind.
type nameSets struct {
	clusters, routes, secrets, endpoints map[string]bool
}

// has reports whether a resource of kind k is named name.
func (s nameSets) has(k refKind, name string) bool {
	switch k {
	case refCluster:
		return s.clusters[name]
	case refRoute:
		return s.routes[name]
	case refSecret:
		return s.secrets[name]
	case refEndpoints:
		return s.endpoints[name]
	}
	return true
}

// checker collects the findings of one resource.
type checker struct {
	where string
	found []finding
	refs  map[finding]bool // references recorded, each once
}

func newChecker(where string) *checker { return &checker{where: where} }

// fail records a problem with the resource being checked.
func (c *checker) fail(what string, err error) {
	c.found = append(c.found, finding{where: c.where, what: what, err: err})
}

// needs records a reference to a resource of kind k named name, once (a
// secret shared by several chains of a listener is one finding).
func (c *checker) needs(k refKind, name string) {
	f := finding{where: c.where, ref: k, name: name}
	if c.refs[f] {
		return
	}
	if c.refs == nil {
		c.refs = map[finding]bool{}
	}
	c.refs[f] = true
	c.found = append(c.found, f)
}
