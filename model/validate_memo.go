package model

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"sync"

	"github.com/trustgate/trustgate/internal/gencache"
)

// The validation memo: what validating one object alone found, kept in the
// Cache across loads under the object itself, with what the checks read
// besides it. A reload validates only the objects that are new (decoded
// again, or moved: a moved document is a new object with its own position)
// and those whose dependencies changed; the errors are the same as
// Validate's. Which checks read what (validate*.go):
//
//   - VirtualServices and AuthorizationPolicies resolve gateway references:
//     the Gateways' names (resolveGateway, and its did-you-mean list).
//   - Gateways and DestinationRules resolve credentials and read files:
//     the Secrets, the secrets directories, Config.Files, and which
//     ClientCertificatePolicies give a Gateway's servers a client CA
//     (policyClientCA). They read no other object.
//   - ClientCertificatePolicies resolve their target (the Gateways' names),
//     read its servers (the target Gateway itself) and resolve the clientCA
//     (the credentials).
//   - ServiceEntries and Secrets, and every object's own checks (its name,
//     namespace, creation time, empty security settings), read nothing else.
//
// What reads many objects at once is not memoised: names defined twice,
// two ClientCertificatePolicies targeting one Gateway (section) and the
// mesh configuration. Keying by the object is sound because nothing
// modifies a loaded object (Cache), and an entry holds its object, so the
// address is not reused while the entry lives.

// validation is one object's errors and the dependencies they were found
// with (nil: not read). target is the Gateway a ClientCertificatePolicy's
// checks resolved and read (nil for other kinds, or none resolved): both
// what they found and a dependency, still met while the same Gateway
// object holds its name.
type validation struct {
	gateways *gatewayNames
	creds    *credentials
	target   *Gateway
	errs     []*FieldError
}

// reads says which dependencies a kind's checks read.
type reads struct{ gateways, creds bool }

// gatewayNames are the "namespace/name" of every Gateway, sorted.
type gatewayNames struct{ keys []string }

// credentials is what resolving a credential or reading a file reads, and
// which policies give a server a client CA (caPolicies, worked out from
// policies).
type credentials struct {
	secrets     []*Secret
	secretsDirs []string
	files       map[string][]byte
	policies    []*ClientCertificatePolicy
	caPolicies  map[string]bool
}

func (a *credentials) same(b *credentials) bool {
	return slices.EqualFunc(a.secrets, b.secrets, func(x, y *Secret) bool { return x == y || reflect.DeepEqual(x, y) }) &&
		slices.Equal(a.secretsDirs, b.secretsDirs) && maps.EqualFunc(a.files, b.files, bytes.Equal) &&
		(slices.Equal(a.policies, b.policies) || maps.Equal(a.caPolicies, b.caPolicies))
}

// validations is the memo's part of a Cache.
type validations struct {
	mu      sync.Mutex
	entries *gencache.Cache[*Object, *validation]
	// The last Validate's dependencies, handed to the next when equal, so
	// that entries compare them by pointer.
	gateways *gatewayNames
	creds    *credentials
}

func newValidations() *validations {
	return &validations{entries: gencache.New[*Object, *validation]()}
}

// validationRun is one Validate's use of the memo.
type validationRun struct {
	m        *validations
	gateways *gatewayNames
	creds    *credentials
}

// start begins a Validate of v's Config with the memo; nil without one.
func (m *validations) start(v *validator) *validationRun {
	if m == nil {
		return nil
	}
	g := &gatewayNames{keys: v.gatewayNames()}
	cr := &credentials{secrets: v.c.Secrets, secretsDirs: v.c.SecretsDirs, files: v.c.Files, policies: v.c.ClientCertificatePolicies}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.creds != nil && slices.Equal(m.creds.policies, cr.policies) {
		// The same policies give the same map: not worked out again (an
		// entry per policy, 10,000 at 10,000 hosts with policies).
		v.caPolicies = m.creds.caPolicies
	}
	cr.caPolicies = v.clientCAPolicies()
	if m.gateways == nil || !slices.Equal(m.gateways.keys, g.keys) {
		m.gateways = g
	}
	if m.creds == nil || !m.creds.same(cr) {
		m.creds = cr
	}
	return &validationRun{m: m, gateways: m.gateways, creds: m.creds}
}

// deps are the dependencies r stands for among those the checks read.
func (r *validationRun) deps(rd reads) (*gatewayNames, *credentials) {
	var g *gatewayNames
	var cr *credentials
	if rd.gateways {
		g = r.gateways
	}
	if rd.creds {
		cr = r.creds
	}
	return g, cr
}

// memoized runs check, the checks of o alone that read rd, or takes their
// errors from the memo.
func (v *validator) memoized(o *Object, rd reads, check func()) {
	v.memoizedTarget(o, rd, func() *Gateway { check(); return nil })
}

// memoizedTarget is memoized for checks that resolve and read a target
// Gateway, which it returns.
func (v *validator) memoizedTarget(o *Object, rd reads, check func() *Gateway) *Gateway {
	r := v.memo
	if r == nil {
		return check()
	}
	g, cr := r.deps(rd)
	if e, ok := r.m.entries.Get(o); ok && e.gateways == g && e.creds == cr && v.current(e.target) {
		v.errs.Add(e.errs...)
		return e.target
	}
	outer := v.errs
	v.errs = Errors{}
	target := check()
	errs := v.errs.list
	v.errs = outer
	v.errs.Add(errs...)
	r.m.entries.Put(o, &validation{gateways: g, creds: cr, target: target, errs: errs})
	return target
}

// current reports whether g (nil: none) is still the Gateway its name
// resolves to.
func (v *validator) current(g *Gateway) bool {
	return g == nil || v.gateways[g.Metadata.Namespace+"/"+g.Metadata.Name] == g
}
