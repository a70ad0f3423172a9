package model

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Validate checks every object for semantic errors (ranges, enums, one-of
// fields, references between objects, secrets that must resolve) and
// returns them all as one *ErrorList, or nil.
func (c *Config) Validate() error { return c.ValidateWith(nil) }

// ValidateWith is Validate with the validation memo of cache (nil: none),
// held across loads: an object validated by an earlier load is not checked
// again while what its checks read is unchanged (validate_memo.go). The
// errors are Validate's.
func (c *Config) ValidateWith(cache *Cache) error {
	v := newValidator(c)
	if cache != nil {
		v.memo = cache.validations.start(v)
	}
	v.duplicates()
	for _, g := range c.Gateways {
		v.memoized(&g.Object, reads{creds: true}, func() { v.own(&g.Object); v.gateway(g) })
	}
	for _, vs := range c.VirtualServices {
		v.memoized(&vs.Object, reads{gateways: true}, func() { v.own(&vs.Object); v.virtualService(vs) })
	}
	for _, dr := range c.DestinationRules {
		v.memoized(&dr.Object, reads{creds: true}, func() { v.own(&dr.Object); v.destinationRule(dr) })
	}
	for _, se := range c.ServiceEntries {
		v.memoized(&se.Object, reads{}, func() { v.own(&se.Object); v.serviceEntry(se) })
	}
	for _, ap := range c.AuthorizationPolicies {
		v.memoized(&ap.Object, reads{gateways: true}, func() { v.own(&ap.Object); v.authorizationPolicy(ap) })
	}
	for _, s := range c.Secrets {
		v.memoized(&s.Object, reads{}, func() { v.own(&s.Object); v.secret(s) })
	}
	v.clientCertificatePolicies()
	v.meshConfig(c.Mesh)
	return v.errs.Err()
}

// validator is the state of one Validate.
type validator struct {
	c        *Config
	errs     Errors
	gateways map[string]*Gateway // by "namespace/name"
	// gwSections and caPolicies index what the policies' checks look up
	// (validate_clientcert.go), built on first use.
	gwSections map[*Gateway]*gatewaySections
	caPolicies map[string]bool // "namespace/name#section" given a clientCA
	memo       *validationRun  // nil: no memo
}

func newValidator(c *Config) *validator {
	v := &validator{c: c, gateways: map[string]*Gateway{}, gwSections: map[*Gateway]*gatewaySections{}}
	for _, g := range c.Gateways {
		k := g.Metadata.Namespace + "/" + g.Metadata.Name
		if _, dup := v.gateways[k]; !dup {
			v.gateways[k] = g
		}
	}
	return v
}

// errorf records an error at path inside o.
func (v *validator) errorf(o *Object, path, format string, args ...any) {
	v.errs.Add(o.Errorf(path, format, args...))
}

// metas returns the embedded Object of each element.
func metas[T object](list []T) []*Object {
	out := make([]*Object, len(list))
	for i, o := range list {
		out[i] = o.Meta()
	}
	return out
}

// objects returns every object, kind by kind.
func (v *validator) objects() []*Object {
	c := v.c
	return slices.Concat(metas(c.Gateways), metas(c.VirtualServices), metas(c.DestinationRules),
		metas(c.ServiceEntries), metas(c.AuthorizationPolicies), metas(c.ClientCertificatePolicies), metas(c.Secrets))
}

// duplicates reports objects of one kind defined twice with one name, and
// objects without a name.
func (v *validator) duplicates() {
	// Keyed by the parts of Ref, not by Ref itself: a string made for each
	// of 50,000 objects on every reload.
	type ref struct{ kind, namespace, name string }
	objs := v.objects()
	first := make(map[ref]*Object, len(objs))
	for _, o := range objs {
		if o.Metadata.Name == "" {
			v.errorf(o, "metadata.name", "name is required")
			continue
		}
		k := ref{o.Kind, o.Metadata.Namespace, o.Metadata.Name}
		if f, dup := first[k]; dup {
			// Secrets are exempt: an identical copy is harmless and a
			// differing one is reported (with every copy) when referenced.
			if o.Kind != "Secret" {
				v.errorf(o, "metadata.name", "%s is defined twice (first at %s:%d)", o.Ref(), f.Pos.File, f.Pos.Line)
			}
			continue
		}
		first[k] = o
	}
}

// own checks what every object has, whatever its kind: its creation time,
// name and namespace (a missing name is duplicates'), and security settings
// written empty.
func (v *validator) own(o *Object) {
	if ts := o.Metadata.CreationTimestamp; ts != "" {
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			v.errorf(o, "metadata.creationTimestamp", "%q is not an RFC 3339 time (e.g. 2024-05-01T12:00:00Z)", ts)
		}
	}
	if o.Metadata.Name != "" {
		v.names(o)
	}
	v.emptySecuritySettings(o)
}

// gatewayKey resolves a VirtualService's gateway reference: "name" (in ns),
// "ns/name", or the FQDN form "name.ns.svc.cluster.local". It returns the
// "ns/name" key.
func gatewayKey(ref, ns string) string {
	if gns, name, ok := strings.Cut(ref, "/"); ok {
		return gns + "/" + name
	}
	if name, rest, ok := strings.Cut(ref, "."); ok {
		gns, _, _ := strings.Cut(rest, ".")
		return gns + "/" + name
	}
	return ns + "/" + ref
}

// gatewayNames lists the "ns/name" of every Gateway, sorted, for did-you-mean.
func (v *validator) gatewayNames() []string {
	out := make([]string, 0, len(v.gateways))
	for k := range v.gateways {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// resolveGateway finds a Gateway by reference, or says what exists.
func (v *validator) resolveGateway(o *Object, path, ref, ns string) *Gateway {
	key := gatewayKey(ref, ns)
	if g, ok := v.gateways[key]; ok {
		return g
	}
	what := fmt.Sprintf("gateway %q", ref)
	if ref != key {
		what += " (" + key + ")"
	}
	v.errorf(o, path, "%s not found%s", what, didYouMean(key, v.gatewayNames()))
	return nil
}

// validPort reports whether n is a TCP port number.
func validPort(n uint32) bool { return n >= 1 && n <= 65535 }

// portString checks an AuthorizationPolicy port ("443").
func portString(s string) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || !validPort(uint32(n)) {
		return fmt.Errorf("port %q is not a number between 1 and 65535", s)
	}
	return nil
}

// enum checks that value (compared upper-cased) is one of allowed, with
// a reason for values trustgate knows but rejects.
func enum(value string, allowed []string, rejected map[string]string) error {
	u := strings.ToUpper(value)
	for _, a := range allowed {
		if u == a {
			return nil
		}
	}
	if why, ok := rejected[u]; ok {
		return fmt.Errorf("%s is not supported by trustgate: %s", value, why)
	}
	return fmt.Errorf("%q is not one of %s", value, strings.Join(allowed, ", "))
}

// sortedKeys returns a map's keys in order, so errors come out the same on
// every run.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
