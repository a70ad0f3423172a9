package kubernetes

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/trustgate/trustgate/model"
)

// serviceEntries turns each referenced Service into a ServiceEntry the IR
// serves over EDS, as Istio's Kubernetes registry does: its ports, and the
// ready endpoints of its EndpointSlices. They come after the user's own
// ServiceEntries, so a user's ServiceEntry for the same host wins (the IR
// takes the first one listing a host).
//
// Endpoint labels (pods' labels, for DestinationRule subsets) are not read:
// a subset with labels selects no endpoint of a Service, with the IR's
// warning. A Service with no ready endpoint gets its cluster IP as the one
// endpoint: the IR only makes an EDS cluster for a ServiceEntry with
// endpoints, and the cluster IP answers as the Service would (nothing
// listens: Envoy answers 503), so the cluster stays EDS and scaling to zero
// and back changes EDS only. A headless Service without ready endpoints
// gets no ServiceEntry, so its host is resolved by DNS.
func (s *Source) serviceEntries(w wanted) []*model.ServiceEntry {
	keys := make([]nsName, 0, len(w.services))
	for k := range w.services {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b nsName) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	var out []*model.ServiceEntry
	slicesOf := s.endpointSlices()
	for _, k := range keys {
		svc := s.service(k)
		if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue // not a cluster Service: the host is resolved by DNS
		}
		if se := serviceEntry(w.services[k], svc, slicesOf[k]); se != nil {
			out = append(out, se)
		}
	}
	return out
}

func (s *Source) service(k nsName) *corev1.Service {
	for _, inf := range s.services {
		o, ok, err := inf.GetStore().GetByKey(k.Namespace + "/" + k.Name)
		if err == nil && ok {
			if svc, ok := o.(*corev1.Service); ok {
				return svc
			}
		}
	}
	return nil
}

// endpointSlices are the EndpointSlices of the informers' caches by the
// Service they belong to (their kubernetes.io/service-name label), read in
// one pass: listing every slice for each Service made a reload of 10,000
// routed Services quadratic.
func (s *Source) endpointSlices() map[nsName][]*discoveryv1.EndpointSlice {
	out := map[nsName][]*discoveryv1.EndpointSlice{}
	for _, inf := range s.endpoints {
		for _, o := range inf.GetStore().List() {
			if es, ok := o.(*discoveryv1.EndpointSlice); ok {
				if name, labelled := es.Labels[discoveryv1.LabelServiceName]; labelled {
					k := nsName{es.Namespace, name}
					out[k] = append(out[k], es)
				}
			}
		}
	}
	return out
}

// serviceEntry builds the ServiceEntry of one Service, nil when it has no
// endpoint to offer.
func serviceEntry(host string, svc *corev1.Service, slices []*discoveryv1.EndpointSlice) *model.ServiceEntry {
	se := &model.ServiceEntry{
		Object: model.Object{APIVersion: "networking.istio.io/v1", Kind: "ServiceEntry",
			Metadata: model.ObjectMeta{Name: "kubernetes-service-" + svc.Name, Namespace: svc.Namespace}},
		Spec: model.ServiceEntrySpec{Hosts: []string{host}, Location: "MESH_INTERNAL", Resolution: "STATIC"},
	}
	names := map[string]string{} // Service port name -> ServiceEntry port name
	for _, p := range svc.Spec.Ports {
		if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
			continue // UDP and SCTP are not proxied
		}
		name := p.Name
		if name == "" {
			name = fmt.Sprintf("port-%d", p.Port)
		}
		names[p.Name] = name
		se.Spec.Ports = append(se.Spec.Ports, model.ServicePort{Number: uint32(p.Port), Name: name, Protocol: portProtocol(p)})
	}
	se.Spec.Endpoints = readyEndpoints(slices, names)
	if len(se.Spec.Endpoints) == 0 {
		ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
		if err != nil {
			return nil // headless, or no IP yet
		}
		ports := map[string]uint32{}
		for _, p := range se.Spec.Ports {
			ports[p.Name] = p.Number
		}
		se.Spec.Endpoints = []model.WorkloadEntry{{Address: ip.String(), Ports: ports}}
	}
	return se
}

// readyEndpoints lists each ready address once, with the port numbers of
// the Service's ports by name, sorted.
func readyEndpoints(slices_ []*discoveryv1.EndpointSlice, names map[string]string) []model.WorkloadEntry {
	byAddr := map[string]map[string]uint32{}
	for _, es := range slices_ {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue // FQDN slices
		}
		ports := map[string]uint32{}
		for _, p := range es.Ports {
			name := ""
			if p.Name != nil {
				name = *p.Name
			}
			seName, ok := names[name]
			if ok && p.Port != nil {
				ports[seName] = uint32(*p.Port)
			}
		}
		for _, ep := range es.Endpoints {
			// A nil ready condition means ready (discovery/v1 API doc).
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				if byAddr[a] == nil {
					byAddr[a] = map[string]uint32{}
				}
				for n, p := range ports {
					byAddr[a][n] = p
				}
			}
		}
	}
	out := make([]model.WorkloadEntry, 0, len(byAddr))
	for a, ports := range byAddr {
		out = append(out, model.WorkloadEntry{Address: a, Ports: ports})
	}
	slices.SortFunc(out, func(a, b model.WorkloadEntry) int { return strings.Compare(a.Address, b.Address) })
	return out
}

// portProtocol is Istio's protocol of a Service port: appProtocol, else the
// name's prefix ("http-web", "grpc"), else TCP.
func portProtocol(p corev1.ServicePort) string {
	sel := strings.ToLower(p.Name)
	if p.AppProtocol != nil {
		sel = strings.ToLower(*p.AppProtocol)
	}
	prefix, _, _ := strings.Cut(sel, "-")
	switch prefix {
	case "http", "kubernetes.io/ws":
		return "HTTP"
	case "http2", "kubernetes.io/h2c":
		return "HTTP2"
	case "grpc", "grpc-web":
		return "GRPC"
	case "https", "kubernetes.io/wss":
		return "HTTPS"
	case "tls":
		return "TLS"
	}
	return "TCP"
}
