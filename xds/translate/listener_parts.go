package translate

import (
	"crypto/sha256"
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/internal/protowalk"
	"github.com/trustgate/trustgate/xds/ir"
)

// A listener is translated and checked by parts: each filter chain is
// built, and walked for findings, on its own, under the content key of its
// IR chain, and the listener is put together from its chains. A port of
// 10,000 servers is one listener of 10,000 chains: by parts, adding a host
// builds and walks one chain, not 10,000, and a cold build walks the
// chains on every core.

// chainPart is one filter chain and the findings of walking it (where left
// for the listener to fill in).
type chainPart struct {
	key   key
	entry *entry // from the cache; nil: built by this call
	fc    *listenerv3.FilterChain
	found []finding
	build func() error // builds fc; nil when it came from the cache
	err   error        // build's
}

// listenerParts is a listener being built from its chains.
type listenerParts struct {
	ir     *ir.Listener
	out    *listenerv3.Listener
	chains []*chainPart
}

// listenerKey is the key of a listener: its content but its chains, then
// its chains' keys, so that each chain is hashed once.
func listenerKey(l *ir.Listener, chains []*chainPart) (key, error) {
	shell := *l
	shell.Chains = nil
	k, err := contentKey(&shell)
	if err != nil {
		return key{}, err
	}
	h := sha256.New()
	h.Write([]byte("listener from chains\x00"))
	h.Write(k[:])
	for _, c := range chains {
		h.Write(c.key[:])
	}
	var out key
	h.Sum(out[:0])
	return out, nil
}

// listenerByParts takes each chain of l from the cache where it has it,
// and says how to build the others; buildShell and the chains' builds run
// (on every core, see buildAll) before assemble.
func listenerByParts(c *Cache, l *ir.Listener, chains []*chainPart) *listenerParts {
	lp := &listenerParts{ir: l, chains: chains}
	for i, ch := range l.Chains {
		part := chains[i]
		if c != nil {
			if e := c.get(part.key); e != nil {
				part.entry, part.fc, part.found = e, e.msgs[0].(*listenerv3.FilterChain), e.found[0]
				continue
			}
		}
		part.build = func() (err error) {
			part.fc, err = buildFilterChain(ch)
			return err
		}
	}
	return lp
}

// buildShell builds the listener but its chains.
func (lp *listenerParts) buildShell() (err error) {
	shell := *lp.ir
	shell.Chains = nil
	lp.out, err = buildListener(&shell)
	return err
}

// assemble adds the chains to the listener, or returns the first chain's
// error, as buildListener would.
func (lp *listenerParts) assemble() error {
	for i, part := range lp.chains {
		if part.err != nil {
			return fmt.Errorf("chain %q: %w", lp.ir.Chains[i].Name, part.err)
		}
		lp.out.FilterChains = append(lp.out.FilterChains, part.fc)
	}
	return nil
}

// chainKeys are the content keys of a listener's chains (none without a
// cache).
func chainKeys(c *Cache, l *ir.Listener) ([]*chainPart, error) {
	parts := make([]*chainPart, len(l.Chains))
	for i := range parts {
		parts[i] = &chainPart{}
	}
	if c == nil {
		return parts, nil
	}
	keys, _, err := contentKeys(l.Chains)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		parts[i].key = k
	}
	return parts, nil
}

// checkChain walks one filter chain for findings, as checkListener's walk
// does when it reaches it.
func checkChain(fc *listenerv3.FilterChain) []finding {
	c := newChecker("")
	c.walk(fc, c.visit)
	return c.found
}

// checkListenerParts is checkListener with the walks of the chains done
// (chains[i] for FilterChains[i]): the same findings in the same order.
// checkListener's walk meets the chains one after the other as the
// elements of filter_chains; here each chain's findings are spliced in
// there instead of walking it again.
func checkListenerParts(l *listenerv3.Listener, chains [][]finding) []finding {
	c := newChecker(fmt.Sprintf("listener %q", l.GetName()))
	c.validate(l)
	next := 0
	c.walk(l, func(m proto.Message, in *anypb.Any) error {
		if fc, ok := m.(*listenerv3.FilterChain); ok && next < len(chains) && fc == l.FilterChains[next] {
			c.splice(chains[next])
			next++
			return protowalk.ErrSkipChildren
		}
		return c.visit(m, in)
	})
	c.filterChains(l)
	return c.found
}

// splice records a chain's findings as the listener's, each reference once.
func (c *checker) splice(fs []finding) {
	for _, f := range fs {
		f.where = c.where
		if f.ref != refNone {
			c.needs(f.ref, f.name)
			continue
		}
		c.found = append(c.found, f)
	}
}
