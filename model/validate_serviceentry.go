package model

import (
	"fmt"
	"net/netip"
	"strings"
)

// ServiceEntry enums.
var (
	resolutions = []string{"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"}
	locations   = []string{"MESH_EXTERNAL", "MESH_INTERNAL"}
)

func (v *validator) serviceEntry(se *ServiceEntry) {
	o, sp := &se.Object, &se.Spec
	res := strings.ToUpper(sp.Resolution)
	if sp.Resolution != "" {
		if err := enum(sp.Resolution, resolutions, nil); err != nil {
			v.errorf(o, "spec.resolution", "resolution %v", err)
		}
	}
	if sp.Location != "" {
		if err := enum(sp.Location, locations, nil); err != nil {
			v.errorf(o, "spec.location", "location %v", err)
		}
	}
	if len(sp.Hosts) == 0 {
		v.errorf(o, "spec.hosts", "at least one host is required")
	}
	for i, h := range sp.Hosts {
		p := fmt.Sprintf("spec.hosts[%d]", i)
		if err := checkHost(h); err != nil {
			v.errorf(o, p, "%v", err)
		} else if strings.HasPrefix(h, "*") && strings.HasPrefix(res, "DNS") {
			v.errorf(o, p, "wildcard host %q cannot be resolved with DNS", h)
		}
	}
	for i, a := range sp.Addresses {
		if err := checkIPOrCIDR(a); err != nil {
			v.errorf(o, fmt.Sprintf("spec.addresses[%d]", i), "%v", err)
		}
	}
	names := v.servicePorts(o, sp.Ports)
	if res == "STATIC" && len(sp.Endpoints) == 0 {
		v.errorf(o, "spec.endpoints", "resolution STATIC needs endpoints")
	}
	for i := range sp.Endpoints {
		v.workloadEntry(o, fmt.Sprintf("spec.endpoints[%d]", i), &sp.Endpoints[i], res, names)
	}
}

// servicePorts checks ports (numbers and names unique) and returns the
// port names.
func (v *validator) servicePorts(o *Object, ports []ServicePort) map[string]bool {
	names := map[string]bool{}
	numbers := map[uint32]int{}
	for i, pt := range ports {
		p := fmt.Sprintf("spec.ports[%d]", i)
		if j, dup := numbers[pt.Number]; dup {
			v.errorf(o, p+".number", "port %d is also defined by spec.ports[%d]", pt.Number, j)
		} else {
			numbers[pt.Number] = i
		}
		if !validPort(pt.Number) {
			v.errorf(o, p+".number", "port %d is not between 1 and 65535", pt.Number)
		}
		if pt.TargetPort != 0 && !validPort(pt.TargetPort) {
			v.errorf(o, p+".targetPort", "port %d is not between 1 and 65535", pt.TargetPort)
		}
		if pt.Name != "" {
			if names[pt.Name] {
				v.errorf(o, p+".name", "port name %q is used twice", pt.Name)
			}
			names[pt.Name] = true
		}
	}
	return names
}

func (v *validator) workloadEntry(o *Object, p string, e *WorkloadEntry, res string, portNames map[string]bool) {
	switch {
	case e.Address == "":
		v.errorf(o, p+".address", "address is required")
	case res == "STATIC":
		if _, err := netip.ParseAddr(e.Address); err != nil {
			v.errorf(o, p+".address", "resolution STATIC needs an IP address, got %q", e.Address)
		}
	default:
		if _, err := netip.ParseAddr(e.Address); err != nil {
			if err := checkDNSName(e.Address); err != nil {
				v.errorf(o, p+".address", "address is neither an IP address nor a DNS name: %v", err)
			}
		}
	}
	for _, name := range sortedKeys(e.Ports) {
		pp := p + ".ports." + name
		if !portNames[name] {
			v.errorf(o, pp, "port name %q is not one of spec.ports' names%s", name, didYouMean(name, sortedKeys(portNames)))
		}
		if !validPort(e.Ports[name]) {
			v.errorf(o, pp, "port %d is not between 1 and 65535", e.Ports[name])
		}
	}
}
