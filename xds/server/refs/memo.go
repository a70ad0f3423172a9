package refs

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/internal/gencache"
	"github.com/trustgate/trustgate/internal/protowalk"
)

// Memo is Collect with a memory: the references of each listener, filter
// chain and cluster are kept by the message itself (its pointer) across
// calls, so a reload whose resources are mostly unchanged walks only the new
// ones. That is right only for messages nobody modifies once built: the
// server's resources come from translate, whose cache hands back the same
// message for the same content and never changes one after building it; a
// new or changed resource is a new message. Entries are kept by generation
// (internal/gencache): Commit after a good reload keeps what it used.
//
// A listener is walked without its filter chains, each of which is looked
// up on its own: adding a host to a listener of 10,000 chains walks one
// chain. The result is the same as Collect's.
type Memo struct {
	found *gencache.Cache[proto.Message, *found]
}

// found is one message's references, and the filter chains below it that
// were looked up on their own.
type found struct {
	routes, secrets []string
	chains          []proto.Message
}

// NewMemo returns an empty memo.
func NewMemo() *Memo { return &Memo{found: gencache.New[proto.Message, *found]()} }

// Stats are the memo's counts, for tests.
func (m *Memo) Stats() gencache.Stats { return m.found.Stats() }

// Commit ends a good reload: only the messages it looked up are kept.
func (m *Memo) Commit() {
	if m != nil {
		m.found.Commit()
	}
}

// Abort ends a failed reload, keeping the last good one's messages too.
func (m *Memo) Abort() {
	if m != nil {
		m.found.Abort()
	}
}

// Collect is the package's Collect, taking what it can from the memo (nil:
// no memo).
func (m *Memo) Collect(listeners []*listenerv3.Listener, clusters []*clusterv3.Cluster) (Refs, error) {
	if m == nil {
		return Collect(listeners, clusters)
	}
	w := walker{routes: map[string]bool{}, secrets: map[string]bool{}}
	for _, l := range listeners {
		if err := m.add(w, l); err != nil {
			return Refs{}, fmt.Errorf("listener %q: %w", l.GetName(), err)
		}
	}
	endpoints := map[string]bool{}
	for _, c := range clusters {
		if name, ok := EDSName(c); ok {
			endpoints[name] = true
		}
		if err := m.add(w, c); err != nil {
			return Refs{}, fmt.Errorf("cluster %q: %w", c.GetName(), err)
		}
	}
	return Refs{Routes: sorted(w.routes), Endpoints: sorted(endpoints), Secrets: sorted(w.secrets)}, nil
}

// Keep marks these listeners (with their filter chains) and clusters used
// by this reload, as Collect would, for a reload that takes their
// references as already checked: otherwise the next Commit drops them and
// the reload after it walks them all again.
func (m *Memo) Keep(listeners []*listenerv3.Listener, clusters []*clusterv3.Cluster) {
	if m == nil {
		return
	}
	for _, l := range listeners {
		if f, ok := m.found.Get(l); ok {
			m.found.Keep(f.chains)
		}
	}
	ks := make([]proto.Message, len(clusters))
	for i, c := range clusters {
		ks[i] = c
	}
	m.found.Keep(ks)
}

// add records msg's references into w, from the memo or by walking msg
// (filter chains inside it each looked up on their own).
func (m *Memo) add(w walker, msg proto.Message) error {
	f, ok := m.found.Get(msg)
	if !ok {
		var err error
		if f, err = m.walk(msg); err != nil {
			return err
		}
		m.found.Put(msg, f)
	} else {
		// Kept with their listener: otherwise a reload that finds the
		// listener drops them, and the next change to the listener (a
		// host added) walks every chain again.
		m.found.Keep(f.chains)
	}
	for _, r := range f.routes {
		w.routes[r] = true
	}
	for _, s := range f.secrets {
		w.secrets[s] = true
	}
	return nil
}

// walk works out root's references, taking the filter chains below it from
// the memo.
func (m *Memo) walk(root proto.Message) (*found, error) {
	own := walker{routes: map[string]bool{}, secrets: map[string]bool{}}
	var chains []proto.Message
	err := protowalk.Walker{Visit: func(msg proto.Message, in *anypb.Any) error {
		if fc, ok := msg.(*listenerv3.FilterChain); ok && msg != root {
			if err := m.add(own, fc); err != nil {
				return fmt.Errorf("filter chain %q: %w", fc.GetName(), err)
			}
			chains = append(chains, fc)
			return protowalk.ErrSkipChildren
		}
		return own.visit(msg, in)
	}}.Walk(root)
	if err != nil {
		return nil, err
	}
	return &found{routes: sorted(own.routes), secrets: sorted(own.secrets), chains: chains}, nil
}
