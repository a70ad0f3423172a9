package props

import (
	"sort"
	"strings"
)

// owners answers owner for one port's servers from indexes built once:
// scanning every server's hosts for each probe made a port of 10,000
// servers quadratic, and `trustgate check` took minutes (docs/performance.md).
type owners struct {
	exact map[string]*Server // each host, as written: the first server with it
	wild  map[string]*Server // each "*.suffix" host: the first server with it
	star  *Server            // the first server with host "*"
}

func newOwners(servers []*Server) *owners {
	o := &owners{exact: map[string]*Server{}, wild: map[string]*Server{}}
	for _, s := range servers {
		for _, h := range s.Hosts {
			if o.exact[h] == nil {
				o.exact[h] = s
			}
			if strings.HasPrefix(h, "*.") && o.wild[h] == nil {
				o.wild[h] = s
			}
			if h == "*" && o.star == nil {
				o.star = s
			}
		}
	}
	return o
}

// of is the server of the port that a name belongs to: an exact host, then
// the longest wildcard, then "*" (Envoy's filter-chain and virtual host
// order, and Istio's server host semantics); among servers with the same
// host, the first. nil when none.
func (o *owners) of(name string) *Server {
	name = strings.ToLower(name)
	if s := o.exact[name]; s != nil {
		return s
	}
	// "*.suffix" covers a name ending in ".suffix" after at least one
	// character: every such pattern is "*" and name from one of its dots
	// past the first character, the longest from the leftmost dot.
	for i := 1; i < len(name); i++ {
		if name[i] == '.' {
			if s := o.wild["*"+name[i:]]; s != nil {
				return s
			}
		}
	}
	return o.star
}

// near picks, for each SNI of a port, the other names of the port nearest
// it (nearest) from the names' trailing labels, indexed once: sorting all
// the port's names for each SNI made a port of 10,000 names quadratic.
type near struct {
	names []string // the port's names, in order
	// bySuffix holds, for every name's last j labels (j >= 1), the
	// positions of the names ending in them, ascending.
	bySuffix map[string][]int
}

func newNear(names []string) *near {
	x := &near{names: names, bySuffix: map[string][]int{}}
	for i, name := range names {
		for j := len(name); j >= 0; j-- {
			if j == 0 || name[j-1] == '.' {
				x.bySuffix[name[j:]] = append(x.bySuffix[name[j:]], i)
			}
		}
	}
	return x
}

// nearest are up to k names other than names[own] (own is -1 when sni is
// not among them): those sharing most trailing labels with sni first (the
// labels after the last j dots), then in the order of the list starting at
// sni's own place, so that every name is someone's neighbour. It walks
// from the longest suffix of sni to the whole list, each level's positions
// in that order, and passes over those taken at a deeper level.
func (x *near) nearest(sni string, own, k int) []string {
	n := len(x.names)
	if n == 0 || k <= 0 {
		return nil
	}
	start := ((own % n) + n) % n
	var levels [][]int // sni's suffixes, longest first; nil stands for all names
	for j := 0; j <= len(sni); j++ {
		if j == 0 || sni[j-1] == '.' {
			levels = append(levels, x.bySuffix[sni[j:]])
		}
	}
	levels = append(levels, nil)
	taken := map[int]bool{}
	var out []string
	for li, positions := range levels {
		count := len(positions)
		if li == len(levels)-1 {
			count = n
		}
		if count == 0 {
			continue
		}
		first := 0
		if positions != nil {
			first = sort.SearchInts(positions, start)
		}
		for step := 0; step < count && len(out) < k; step++ {
			var p int
			if positions == nil {
				p = (start + step) % n
			} else {
				p = positions[(first+step)%count]
			}
			if p == own || taken[p] {
				continue
			}
			taken[p] = true
			out = append(out, x.names[p])
		}
		if len(out) == k {
			break
		}
	}
	return out
}
