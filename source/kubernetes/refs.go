package kubernetes

import (
	"slices"
	"strings"

	"github.com/trustgate/trustgate/model"
)

// nsName is a namespaced object name.
type nsName struct{ Namespace, Name string }

// wanted is what one configuration references from the cluster: the
// Secrets it may read and the Services it routes to.
type wanted struct {
	secrets     map[nsName]bool
	secretNames map[string]bool   // any namespace, to judge Secret events
	services    map[nsName]string // Service -> the host routed to
	// users are the objects ("Kind ns/name") that name each Secret, so
	// that a finding about a Secret shows on them.
	users map[nsName][]string
}

func (w wanted) secret(ns, name string) bool { return w.secrets[nsName{ns, name}] }

func (w wanted) service(ns, name string) bool {
	_, ok := w.services[nsName{ns, name}]
	return ok
}

// referenced lists, for m with its short names resolved, every Secret a
// credential name may resolve to, as
// model.ResolveCredential and ResolveCACredential look them up (the
// object's namespace and model.WorkloadSecretsNamespace, the name and its
// model.CASuffix variant), and every Service a destination names.
func referenced(m *model.Config, domain string) wanted {
	w := wanted{secrets: map[nsName]bool{}, secretNames: map[string]bool{}, services: map[nsName]string{}, users: map[nsName][]string{}}
	var user string // the object being walked
	add := func(ns, name string) {
		if name == "" {
			return
		}
		for _, n := range []string{name, name + model.CASuffix} {
			w.secretNames[n] = true
			for _, k := range []nsName{{ns, n}, {model.WorkloadSecretsNamespace, n}} {
				w.secrets[k] = true
				if !slices.Contains(w.users[k], user) {
					w.users[k] = append(w.users[k], user)
				}
			}
		}
	}
	for _, g := range m.Gateways {
		user = g.Ref()
		for _, srv := range g.Spec.Servers {
			if t := srv.TLS; t != nil {
				add(g.Metadata.Namespace, t.CredentialName)
				add(g.Metadata.Namespace, t.CACertCredentialName)
				for _, n := range t.CredentialNames {
					add(g.Metadata.Namespace, n)
				}
			}
		}
	}
	for _, dr := range m.DestinationRules {
		user = dr.Ref()
		forEachClientTLS(dr, func(t *model.ClientTLSSettings) { add(dr.Metadata.Namespace, t.CredentialName) })
	}
	for _, p := range m.ClientCertificatePolicies {
		user = p.Ref()
		add(p.Metadata.Namespace, p.Spec.ClientCA)
		if ns := p.Spec.TargetRef.Namespace; ns != "" {
			add(ns, p.Spec.ClientCA)
		}
	}
	for _, vs := range m.VirtualServices {
		forEachDestination(vs, func(d *model.Destination) {
			if svc, ok := serviceOf(d.Host, domain); ok {
				w.services[svc] = strings.ToLower(d.Host)
			}
		})
	}
	return w
}

// serviceOf parses "name.namespace.svc.<domain>".
func serviceOf(host, domain string) (nsName, bool) {
	host = strings.ToLower(host)
	rest, ok := strings.CutSuffix(host, ".svc."+domain)
	if !ok {
		return nsName{}, false
	}
	name, ns, ok := strings.Cut(rest, ".")
	if !ok || name == "" || ns == "" || strings.Contains(ns, ".") {
		return nsName{}, false
	}
	return nsName{Namespace: ns, Name: name}, true
}

func forEachClientTLS(dr *model.DestinationRule, f func(*model.ClientTLSSettings)) {
	policy := func(tp *model.TrafficPolicy) {
		if tp == nil {
			return
		}
		if tp.TLS != nil {
			f(tp.TLS)
		}
		for i := range tp.PortLevelSettings {
			if tp.PortLevelSettings[i].TLS != nil {
				f(tp.PortLevelSettings[i].TLS)
			}
		}
	}
	policy(dr.Spec.TrafficPolicy)
	for i := range dr.Spec.Subsets {
		policy(dr.Spec.Subsets[i].TrafficPolicy)
	}
}

func forEachDestination(vs *model.VirtualService, f func(*model.Destination)) {
	for i := range vs.Spec.HTTP {
		for j := range vs.Spec.HTTP[i].Route {
			f(&vs.Spec.HTTP[i].Route[j].Destination)
		}
	}
	for i := range vs.Spec.TCP {
		for j := range vs.Spec.TCP[i].Route {
			f(&vs.Spec.TCP[i].Route[j].Destination)
		}
	}
	for i := range vs.Spec.TLS {
		for j := range vs.Spec.TLS[i].Route {
			f(&vs.Spec.TLS[i].Route[j].Destination)
		}
	}
}
