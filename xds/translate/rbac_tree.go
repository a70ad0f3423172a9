package translate

import (
	"fmt"
	"net/netip"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Small constructors for RBAC permission and principal trees. The OR and AND
// helpers return a lone element unwrapped, which keeps the output readable
// and does not change its meaning.

// permAny matches every action.
func permAny() *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_Any{Any: true}}
}

// permOr matches when some of ps match.
func permOr(ps []*rbacv3.Permission) *rbacv3.Permission {
	if len(ps) == 1 {
		return ps[0]
	}
	return &rbacv3.Permission{Rule: &rbacv3.Permission_OrRules{OrRules: &rbacv3.Permission_Set{Rules: ps}}}
}

// permAnd matches when all of ps match.
func permAnd(ps []*rbacv3.Permission) *rbacv3.Permission {
	if len(ps) == 1 {
		return ps[0]
	}
	return &rbacv3.Permission{Rule: &rbacv3.Permission_AndRules{AndRules: &rbacv3.Permission_Set{Rules: ps}}}
}

// permNot negates p.
func permNot(p *rbacv3.Permission) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_NotRule{NotRule: p}}
}

// prinAny matches every downstream.
func prinAny() *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_Any{Any: true}}
}

// prinOr matches when some of ps match.
func prinOr(ps []*rbacv3.Principal) *rbacv3.Principal {
	if len(ps) == 1 {
		return ps[0]
	}
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_OrIds{OrIds: &rbacv3.Principal_Set{Ids: ps}}}
}

// prinAnd matches when all of ps match.
func prinAnd(ps []*rbacv3.Principal) *rbacv3.Principal {
	if len(ps) == 1 {
		return ps[0]
	}
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_AndIds{AndIds: &rbacv3.Principal_Set{Ids: ps}}}
}

// prinNot negates p.
func prinNot(p *rbacv3.Principal) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_NotId{NotId: p}}
}

// permField appends to and the OR of values, negated when not is set; an
// empty field adds nothing.
func permField(and []*rbacv3.Permission, values []*rbacv3.Permission, not bool) []*rbacv3.Permission {
	if len(values) == 0 {
		return and
	}
	p := permOr(values)
	if not {
		p = permNot(p)
	}
	return append(and, p)
}

// prinField is permField for principals.
func prinField(and []*rbacv3.Principal, values []*rbacv3.Principal, not bool) []*rbacv3.Principal {
	if len(values) == 0 {
		return and
	}
	p := prinOr(values)
	if not {
		p = prinNot(p)
	}
	return append(and, p)
}

// cidrRange parses "10.0.0.0/8" or a bare IP (a /32 or /128).
func cidrRange(s string) (*corev3.CidrRange, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return nil, fmt.Errorf("%q is neither an IP nor a CIDR", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return &corev3.CidrRange{
		AddressPrefix: p.Addr().String(),
		PrefixLen:     wrapperspb.UInt32(uint32(p.Bits())),
	}, nil
}

// mapList converts each element of in with f.
func mapList[T, U any](in []T, f func(T) (U, error)) ([]U, error) {
	out := make([]U, 0, len(in))
	for i, v := range in {
		u, err := f(v)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, u)
	}
	return out, nil
}
