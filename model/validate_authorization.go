package model

import (
	"fmt"
	"slices"
	"strings"
)

// AuthorizationPolicy actions.
var (
	authzActions         = []string{"ALLOW", "DENY"}
	rejectedAuthzActions = map[string]string{
		"AUDIT":  "it needs Istio's telemetry",
		"CUSTOM": "it needs an external authorizer",
	}
)

// whenKeys are the condition keys trustgate evaluates on a gateway;
// request.headers[NAME] is checked apart.
var whenKeys = []string{"request.headers[NAME]", "source.principal", "source.ip", "remote.ip", "connection.sni", "destination.port"}

func (v *validator) authorizationPolicy(ap *AuthorizationPolicy) {
	o, sp := &ap.Object, &ap.Spec
	action := "ALLOW"
	if sp.Action != "" {
		if err := enum(sp.Action, authzActions, rejectedAuthzActions); err != nil {
			v.errorf(o, "spec.action", "action %v", err)
		}
		action = strings.ToUpper(sp.Action)
	}
	if sp.Selector != nil && (sp.TargetRef != nil || len(sp.TargetRefs) > 0) {
		v.errorf(o, "spec.selector", "set only one of selector and targetRef(s)")
	}
	if sp.TargetRef != nil && len(sp.TargetRefs) > 0 {
		v.errorf(o, "spec.targetRef", "set only one of targetRef and targetRefs")
	}
	if sp.TargetRef != nil {
		v.policyTarget(o, "spec.targetRef", sp.TargetRef)
	}
	for i := range sp.TargetRefs {
		v.policyTarget(o, fmt.Sprintf("spec.targetRefs[%d]", i), &sp.TargetRefs[i])
	}
	if action == "DENY" && len(sp.Rules) == 0 {
		v.errorf(o, "spec.rules", "a DENY policy needs rules")
	}
	for i := range sp.Rules {
		v.rule(o, fmt.Sprintf("spec.rules[%d]", i), &sp.Rules[i])
	}
}

// gatewayAPIGroup is the group Istio accepts for a policy's Gateway target
// (istio/istio pkg/config/validation/validation.go, allowedTargetRefs:
// gvk.KubernetesGateway). trustgate reads no Gateway API objects: the name
// means the Istio Gateway of that name, the one the policy's proxies run.
const gatewayAPIGroup = "gateway.networking.k8s.io"

// gatewayGroups are the targetRef groups that name a Gateway: Istio's, and
// networking.istio.io or none, which trustgate accepted first (Istio rejects
// them in an AuthorizationPolicy).
var gatewayGroups = []string{gatewayAPIGroup, "networking.istio.io", ""}

// policyTarget checks an AuthorizationPolicy's targetRef. As in Istio
// (validatePolicyTargetReference rejects targetRef.namespace), a policy
// governs Gateways of its own namespace only; a namespace equal to the
// policy's is harmless and allowed.
func (v *validator) policyTarget(o *Object, p string, ref *PolicyTargetReference) {
	if ns := ref.Namespace; ns != "" && ns != o.Metadata.Namespace {
		v.errorf(o, p+".namespace", "an AuthorizationPolicy targets Gateways in its own namespace %q, not %q (Istio rejects a targetRef namespace); move the policy to namespace %q",
			o.Metadata.Namespace, ns, ns)
		return
	}
	v.targetGateway(o, p, ref)
}

// targetGateway checks a policy's targetRef: a Gateway (group
// gateway.networking.k8s.io, networking.istio.io or empty) that exists. The
// namespace defaults to the policy's.
func (v *validator) targetGateway(o *Object, p string, ref *PolicyTargetReference) *Gateway {
	if ref.Kind != "Gateway" {
		v.errorf(o, p+".kind", "kind %q is not supported; the target must be a Gateway", ref.Kind)
		return nil
	}
	if !slices.Contains(gatewayGroups, ref.Group) {
		v.errorf(o, p+".group", "group %q is not supported; a Gateway target has group %s, as Istio requires", ref.Group, gatewayAPIGroup)
		return nil
	}
	if ref.Name == "" {
		v.errorf(o, p+".name", "name is required")
		return nil
	}
	ns := ref.Namespace
	if ns == "" {
		ns = o.Metadata.Namespace
	}
	return v.resolveGateway(o, p+".name", ns+"/"+ref.Name, ns)
}

func (v *validator) rule(o *Object, p string, r *Rule) {
	for i := range r.From {
		fp := fmt.Sprintf("%s.from[%d].source", p, i)
		s := &r.From[i].Source
		lists := [][]string{s.Principals, s.NotPrincipals, s.IPBlocks, s.NotIPBlocks, s.RemoteIPBlocks, s.NotRemoteIPBlocks}
		if allEmpty(lists...) {
			v.errorf(o, fp, "source has no fields; remove it or set one")
		}
		for _, f := range []struct {
			name string
			vals []string
		}{{"ipBlocks", s.IPBlocks}, {"notIpBlocks", s.NotIPBlocks}, {"remoteIpBlocks", s.RemoteIPBlocks}, {"notRemoteIpBlocks", s.NotRemoteIPBlocks}} {
			for j, b := range f.vals {
				if err := checkIPOrCIDR(b); err != nil {
					v.errorf(o, fmt.Sprintf("%s.%s[%d]", fp, f.name, j), "%v", err)
				}
			}
		}
	}
	for i := range r.To {
		tp := fmt.Sprintf("%s.to[%d].operation", p, i)
		op := &r.To[i].Operation
		if allEmpty(op.Hosts, op.NotHosts, op.Ports, op.NotPorts, op.Methods, op.NotMethods, op.Paths, op.NotPaths) {
			v.errorf(o, tp, "operation has no fields; remove it or set one")
		}
		for _, f := range []struct {
			name string
			vals []string
		}{{"ports", op.Ports}, {"notPorts", op.NotPorts}} {
			for j, port := range f.vals {
				if err := portString(port); err != nil {
					v.errorf(o, fmt.Sprintf("%s.%s[%d]", tp, f.name, j), "%v", err)
				}
			}
		}
	}
	for i := range r.When {
		v.condition(o, fmt.Sprintf("%s.when[%d]", p, i), &r.When[i])
	}
}

func allEmpty(lists ...[]string) bool {
	for _, l := range lists {
		if len(l) > 0 {
			return false
		}
	}
	return true
}

// condition checks a `when` entry: a key trustgate evaluates and values of
// the key's form.
func (v *validator) condition(o *Object, p string, c *Condition) {
	if len(c.Values) == 0 && len(c.NotValues) == 0 {
		v.errorf(o, p, "at least one of values and notValues is required")
	}
	var check func(string) error
	switch key := c.Key; {
	case strings.HasPrefix(key, "request.headers["):
		name, ok := strings.CutSuffix(strings.TrimPrefix(key, "request.headers["), "]")
		if !ok || name == "" {
			v.errorf(o, p+".key", "key %q must read request.headers[NAME]", key)
			return
		}
		if err := checkHeaderName(name); err != nil {
			v.errorf(o, p+".key", "%v", err)
		}
	case key == "source.ip" || key == "remote.ip":
		check = checkIPOrCIDR
	case key == "destination.port":
		check = portString
	case key == "source.principal" || key == "connection.sni":
	default:
		v.errorf(o, p+".key", "key %q is not supported; use one of %s", key, strings.Join(whenKeys, ", "))
		return
	}
	if check == nil {
		return
	}
	for _, f := range []struct {
		name string
		vals []string
	}{{"values", c.Values}, {"notValues", c.NotValues}} {
		for i, val := range f.vals {
			if err := check(val); err != nil {
				v.errorf(o, fmt.Sprintf("%s.%s[%d]", p, f.name, i), "%v", err)
			}
		}
	}
}
