package translate

import (
	"errors"
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacnetv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"

	"github.com/trustgate/trustgate/xds/ir"
)

// Istio's semantics, as two Envoy RBAC filters: a DENY filter first (a
// matching rule rejects), then, when any ALLOW policy applies, an ALLOW
// filter (a request must match some rule; no rules at all means deny all).
// Each IR rule is one Envoy Policy named after it, so a 403's
// rbac_access_denied_matched_policy[...] names the rule.

// rbacRules builds a chain's DENY and ALLOW rule sets; each is nil when that
// filter is not needed. http selects the HTTP filter's capabilities: on a
// TCP chain, rules that need HTTP attributes are dropped (ALLOW) or lose
// those conditions and so deny more (DENY), failing closed like Istio.
func rbacRules(r *ir.RBAC, http bool) (deny, allow *rbacv3.RBAC, err error) {
	if len(r.Deny) > 0 {
		if deny, err = rbacPolicies(rbacv3.RBAC_DENY, r.Deny, http); err != nil {
			return nil, nil, fmt.Errorf("deny: %w", err)
		}
	}
	if r.HasAllow || len(r.Allow) > 0 {
		if allow, err = rbacPolicies(rbacv3.RBAC_ALLOW, r.Allow, http); err != nil {
			return nil, nil, fmt.Errorf("allow: %w", err)
		}
	}
	return deny, allow, nil
}

// rbacPolicies builds one rule set. Its policies map is always present: an
// empty map with ALLOW denies everything, which is what an ALLOW policy
// without rules means.
func rbacPolicies(action rbacv3.RBAC_Action, rules []ir.AuthzRule, http bool) (*rbacv3.RBAC, error) {
	out := &rbacv3.RBAC{Action: action, Policies: map[string]*rbacv3.Policy{}}
	for _, rule := range keptRules(rules, action == rbacv3.RBAC_ALLOW, http) {
		if rule.Name == "" {
			return nil, errors.New("rule without a name")
		}
		if _, dup := out.Policies[rule.Name]; dup {
			return nil, fmt.Errorf("rule %q: duplicate name", rule.Name)
		}
		p, err := rulePolicy(rule, http, action == rbacv3.RBAC_ALLOW)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", rule.Name, err)
		}
		out.Policies[rule.Name] = p
	}
	return out, nil
}

// keptRules drops, on a TCP chain, the ALLOW rules that test HTTP attributes:
// such a rule can never match a connection.
func keptRules(rules []ir.AuthzRule, allow, http bool) []ir.AuthzRule {
	if http || !allow {
		return rules
	}
	var out []ir.AuthzRule
	for _, r := range rules {
		if !ruleNeedsHTTP(r) {
			out = append(out, r)
		}
	}
	return out
}

// rulePolicy is one rule: some To, some From, and every When. Conditions on
// the connection's destination (port, SNI) are AND-ed into the permissions,
// the others into the principals.
func rulePolicy(r ir.AuthzRule, http, allow bool) (*rbacv3.Policy, error) {
	perms, err := mapList(r.To, func(op ir.Operation) (*rbacv3.Permission, error) { return operationPermission(op, http) })
	if err != nil {
		return nil, fmt.Errorf("to%w", err)
	}
	prins, err := mapList(r.From, sourcePrincipal)
	if err != nil {
		return nil, fmt.Errorf("from%w", err)
	}
	var permConds []*rbacv3.Permission
	var prinConds []*rbacv3.Principal
	for i, c := range r.When {
		if !http && conditionNeedsHTTP(c.Key) {
			continue // DENY on TCP: ignoring the condition denies more
		}
		if isPermissionCondition(c.Key) {
			p, err := conditionPermission(c)
			if err != nil {
				return nil, fmt.Errorf("when[%d] %s: %w", i, c.Key, err)
			}
			permConds = append(permConds, p)
			continue
		}
		p, err := conditionPrincipal(c, allow)
		if err != nil {
			return nil, fmt.Errorf("when[%d] %s: %w", i, c.Key, err)
		}
		prinConds = append(prinConds, p)
	}
	return &rbacv3.Policy{
		Permissions: []*rbacv3.Permission{andPerms(perms, permConds)},
		Principals:  []*rbacv3.Principal{andPrins(prins, prinConds)},
	}, nil
}

// andPerms is (OR of alts) AND each of conds; an empty alts list (an empty
// To) matches every action, and so does an empty result.
func andPerms(alts, conds []*rbacv3.Permission) *rbacv3.Permission {
	var and []*rbacv3.Permission
	if len(alts) > 0 {
		and = append(and, permOr(alts))
	}
	and = append(and, conds...)
	if len(and) == 0 {
		return permAny()
	}
	return permAnd(and)
}

// andPrins is andPerms for principals.
func andPrins(alts, conds []*rbacv3.Principal) *rbacv3.Principal {
	var and []*rbacv3.Principal
	if len(alts) > 0 {
		and = append(and, prinOr(alts))
	}
	and = append(and, conds...)
	if len(and) == 0 {
		return prinAny()
	}
	return prinAnd(and)
}

// rbacStatPrefix tells the DENY filter's stats from the ALLOW filter's.
func rbacStatPrefix(rules *rbacv3.RBAC) string {
	if rules.GetAction() == rbacv3.RBAC_DENY {
		return "deny."
	}
	return "allow."
}

// rbacHTTPFilter is one HTTP RBAC filter enforcing rules. Both filters keep
// the well-known name, so one per-route RBACPerRoute (rbacBypass, on
// trustgate's own answers only) reaches both.
func rbacHTTPFilter(rules *rbacv3.RBAC) (*hcmv3.HttpFilter, error) {
	return httpFilter(wellknown.HTTPRoleBasedAccessControl, &rbachttpv3.RBAC{
		Rules:           rules,
		RulesStatPrefix: rbacStatPrefix(rules),
	})
}

// rbacNetworkFilter is one network RBAC filter enforcing rules; stat_prefix
// is required there.
func rbacNetworkFilter(rules *rbacv3.RBAC, statPrefix string) (*listenerv3.Filter, error) {
	return networkFilter(wellknown.RoleBasedAccessControl, &rbacnetv3.RBAC{
		Rules:      rules,
		StatPrefix: statPrefix + "." + rbacStatPrefix(rules),
	})
}

// chainRBAC is what a chain's filters need for authorization: the DENY and
// ALLOW rules (nil when absent) and the certificate fields to copy into
// filter state before them; http says whether HTTP-only conditions apply.
func chainRBAC(c *ir.Chain, http bool) (deny, allow *rbacv3.RBAC, peers []ir.PeerField, err error) {
	if c.RBAC == nil {
		return nil, nil, nil, nil
	}
	if deny, allow, err = rbacRules(c.RBAC, http); err != nil {
		return nil, nil, nil, fmt.Errorf("rbac: %w", err)
	}
	return deny, allow, peerFields(c.RBAC, http), nil
}
