package envoytest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
)

// FullStates are the configurations a proxy may be sent while files change:
// the resources compiled from every state of the files the user wrote in
// full. Check tells whether what a proxy received came from them only.
type FullStates struct {
	// byName holds, per type URL and resource name, every version of the
	// resource found in some state.
	byName map[string]map[string][]proto.Message
	// nameSets holds, per type URL, the name set of each state ("a,b,c"),
	// for the types sent whole (SotW listeners and clusters).
	nameSets map[string]map[string]bool
	// absent holds, per type URL, the names some state lacks: only those
	// may be removed.
	absent map[string]map[string]bool
	states int
}

// NewFullStates indexes states; each maps a type URL to its resources.
func NewFullStates(states ...map[string][]proto.Message) *FullStates {
	f := &FullStates{byName: map[string]map[string][]proto.Message{}, nameSets: map[string]map[string]bool{}, absent: map[string]map[string]bool{}}
	all := map[string]map[string]bool{}
	for _, st := range states {
		f.add(st, all)
	}
	for _, st := range states {
		for t, names := range all {
			have := map[string]bool{}
			for _, m := range st[t] {
				have[nameOf(m)] = true
			}
			for n := range names {
				if !have[n] {
					set(f.absent, t)[n] = true
				}
			}
		}
	}
	return f
}

func (f *FullStates) add(st map[string][]proto.Message, all map[string]map[string]bool) {
	f.states++
	for _, t := range []string{ClusterType, EndpointType, ListenerType, RouteType, SecretType} {
		var names []string
		for _, m := range st[t] {
			n := nameOf(m)
			names = append(names, n)
			set(all, t)[n] = true
			if f.byName[t] == nil {
				f.byName[t] = map[string][]proto.Message{}
			}
			if !slices.ContainsFunc(f.byName[t][n], func(o proto.Message) bool { return proto.Equal(o, m) }) {
				f.byName[t][n] = append(f.byName[t][n], m)
			}
		}
		slices.Sort(names)
		set(f.nameSets, t)[strings.Join(names, ",")] = true
	}
}

func set(m map[string]map[string]bool, k string) map[string]bool {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	return m[k]
}

// States is the number of states indexed.
func (f *FullStates) States() int { return f.states }

// Check describes each response that carries something no full state has:
// a resource equal to none of the versions of its name, a SotW listener or
// cluster set that is no state's, or a delta removal of a resource every
// state has. It returns nil when every response came from full states.
func (f *FullStates) Check(rs []Response) []string {
	var out []string
	for i, r := range rs {
		what := fmt.Sprintf("response %d (stream %d %s version %.12s)", i+1, r.Stream, shortName(r.TypeURL), r.Version)
		for j, m := range r.Resources {
			n := r.Names[j]
			if !slices.ContainsFunc(f.byName[r.TypeURL][n], func(o proto.Message) bool { return proto.Equal(o, m) }) {
				out = append(out, fmt.Sprintf("%s: %s is in no state written in full", what, n))
			}
		}
		if wildcardTypes[r.TypeURL] && !r.isDelta {
			names := slices.Sorted(slices.Values(r.Names))
			if !f.nameSets[r.TypeURL][strings.Join(names, ",")] {
				out = append(out, fmt.Sprintf("%s: the set %v is no state's (states: %v)", what, names, slices.Sorted(maps.Keys(f.nameSets[r.TypeURL]))))
			}
		}
		for _, n := range r.Removed {
			if !f.absent[r.TypeURL][n] {
				out = append(out, fmt.Sprintf("%s: removes %s, which every state written in full has", what, n))
			}
		}
	}
	return out
}

func shortName(typeURL string) string { return typeURL[strings.LastIndex(typeURL, ".")+1:] }

// ByType groups resources by their type URL, as a state for NewFullStates.
func ByType(ms []proto.Message) map[string][]proto.Message {
	out := map[string][]proto.Message{}
	for _, m := range ms {
		t := "type.googleapis.com/" + string(m.ProtoReflect().Descriptor().FullName())
		out[t] = append(out[t], m)
	}
	return out
}
