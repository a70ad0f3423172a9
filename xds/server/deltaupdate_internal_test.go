package server

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// updateByLoop is deltaSub.update as it was written before the first
// subscription's names were taken as they came: every added name copied,
// then every name kept copied again. The oracle for
// TestDeltaUpdateAgreesWithLoop.
func (sub *deltaSub) updateByLoop(subscribe, unsubscribe []string, in *interner) {
	if sub.legacy {
		if len(subscribe) == 0 {
			return
		}
		sub.legacy = false
	}
	if sub.own == nil && sub.needsOwn(subscribe, unsubscribe) {
		sub.own = sub.record()
		sub.base, sub.fresh = nil, nil
	}
	var added []string
	for _, n := range subscribe {
		switch {
		case n == wildcardName:
			sub.wildcard = true
		case !sub.names.has(n):
			if sub.own == nil && !sub.wildcard && sub.base.has(n) {
				sub.fresh = append(sub.fresh, n)
			}
			added = append(added, n)
		}
	}
	var removed map[string]bool
	for _, n := range unsubscribe {
		if n == wildcardName {
			sub.wildcard = false
			continue
		}
		subscribed := sub.names.has(n) || slices.Contains(added, n)
		if sub.own != nil {
			if subscribed && sub.wildcard {
				sub.own[n] = ""
			} else {
				delete(sub.own, n)
			}
		}
		sub.fresh = slices.DeleteFunc(sub.fresh, func(f string) bool { return f == n })
		if subscribed {
			if removed == nil {
				removed = map[string]bool{}
			}
			removed[n] = true
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	names := make([]string, 0, sub.names.len()+len(added))
	for n := range sub.names.names {
		if !removed[n] {
			names = append(names, n)
		}
	}
	for _, n := range added {
		if !removed[n] {
			names = append(names, n)
		}
	}
	sub.names = in.of(names)
}

// TestDeltaUpdateAgreesWithLoop: random requests (names repeated, "*",
// names subscribed and unsubscribed at once, streams holding some of base
// or resuming with versions of their own) leave a stream's record as the
// plain loop does, and never change the request's names.
func TestDeltaUpdateAgreesWithLoop(t *testing.T) {
	c := newCaches()
	install(t, c, routeSnapshot("v1", map[string]string{"a": "a1", "b": "b1", "c": "c1"}))
	base := c.entry(testKey).state.Load().types[routeIdx]
	r := rand.New(rand.NewPCG(9, 10))
	pool := []string{"a", "b", "c", "d", "e", wildcardName}
	pick := func(max int) []string {
		var out []string
		for range r.IntN(max + 1) {
			out = append(out, pool[r.IntN(len(pool))])
		}
		return out
	}
	var in interner
	for i := range 3000 {
		var got, want deltaSub
		got.legacy, got.names = true, emptyNames
		switch r.IntN(3) {
		case 0:
			got.base = base
		case 1:
			got.own = map[string]string{"a": "x", "z": "y"}
		}
		want = got
		want.own = maps.Clone(got.own)
		for step := range 4 {
			sub, unsub := pick(5), pick(2)
			if step == 0 && r.IntN(2) == 0 {
				unsub = nil
			}
			// Room after the names, to see an append write into it.
			full := append(slices.Clone(sub), "after-1", "after-2")
			sub = full[:len(sub)]
			asked := slices.Clone(full)
			got.update(sub, unsub, &in)
			want.updateByLoop(slices.Clone(sub), unsub, &in)
			if !slices.Equal(full, asked) {
				t.Fatalf("case %d step %d: update changed the request's names and what follows them, %v, to %v", i, step, asked, full)
			}
			g := fmt.Sprint(got.legacy, got.wildcard, got.names == want.names, got.base == want.base, got.fresh, got.own)
			w := fmt.Sprint(want.legacy, want.wildcard, true, true, want.fresh, want.own)
			if g != w {
				t.Fatalf("case %d step %d (subscribe %v, unsubscribe %v): record %s, the loop's %s (names %v, loop's %v)",
					i, step, sub, unsub, g, w, slices.Sorted(maps.Keys(got.names.names)), slices.Sorted(maps.Keys(want.names.names)))
			}
		}
	}
}

// TestTakesWholeAgreesWithDiff: whenever a stream is said to take the whole
// type, diff lists every resource of it and removes nothing; random records
// (wildcard or not, names covering all, some or more, a base, a record of
// their own).
func TestTakesWholeAgreesWithDiff(t *testing.T) {
	c := newCaches()
	install(t, c, routeSnapshot("v1", map[string]string{"a": "a1", "b": "b1", "c": "c1"}))
	st := c.entry(testKey).state.Load().types[routeIdx]
	r := rand.New(rand.NewPCG(11, 12))
	var in interner
	pool := []string{"a", "b", "c", "d"}
	whole := 0
	for i := range 2000 {
		var names []string
		for _, n := range pool {
			if r.IntN(4) > 0 {
				names = append(names, n)
			}
		}
		sub := &deltaSub{wildcard: r.IntN(4) == 0, names: in.of(names)}
		switch r.IntN(4) {
		case 0:
			sub.base = st
		case 1:
			sub.own = map[string]string{}
		}
		if !sub.takesWhole(st) {
			continue
		}
		whole++
		resources, removed := sub.diff(st)
		if len(resources) != len(st.resources) || len(removed) > 0 {
			t.Fatalf("case %d (wildcard %v, names %v, base %v, own %v): takes the whole type, but diff sends %d of %d and removes %v",
				i, sub.wildcard, names, sub.base != nil, sub.own != nil, len(resources), len(st.resources), removed)
		}
	}
	if whole < 200 {
		t.Errorf("only %d of 2000 records took the whole type", whole)
	}
}
