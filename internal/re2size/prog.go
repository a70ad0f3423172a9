package re2size

import "slices"

// prog is a compiled program before Prog::Optimize and Prog::Flatten
// (re2/prog.cc). ProgramSize is the size after Flatten.
type prog struct {
	inst            []inst
	start           uint32
	startUnanchored uint32
}

// orderedSet is RE2's SparseSet: membership plus insertion order.
type orderedSet struct {
	has   map[uint32]bool
	order []uint32
}

func newSet() *orderedSet { return &orderedSet{has: map[uint32]bool{}} }

func (s *orderedSet) insert(id uint32) bool {
	if s.has[id] {
		return false
	}
	s.has[id] = true
	s.order = append(s.order, id)
	return true
}

// optimize is Prog::Optimize: outs skip Nop chains, and an Alt between a
// match and a .* self-loop becomes AltMatch (one more instruction once
// flattened).
func (p *prog) optimize() {
	q := newSet()
	add := func(id uint32) {
		if id != 0 {
			q.insert(id)
		}
	}
	skipNops := func(j uint32) uint32 {
		for j != 0 && p.inst[j].op == instNop {
			j = p.inst[j].out
		}
		return j
	}
	add(p.start)
	for i := 0; i < len(q.order); i++ {
		ip := &p.inst[q.order[i]]
		ip.out = skipNops(ip.out)
		add(ip.out)
		if ip.op == instAlt {
			ip.out1 = skipNops(ip.out1)
			add(ip.out1)
		}
	}
	q = newSet()
	add(p.start)
	for i := 0; i < len(q.order); i++ {
		id := q.order[i]
		ip := &p.inst[id]
		add(ip.out)
		if ip.op == instAlt {
			add(ip.out1)
		}
		if ip.op != instAlt {
			continue
		}
		j, k := p.inst[ip.out], p.inst[ip.out1]
		if j.op == instByteRange && j.out == id && j.lo == 0x00 && j.hi == 0xFF && p.isMatch(k) {
			ip.op = instAltMatch
			continue
		}
		if p.isMatch(j) && k.op == instByteRange && k.out == id && k.lo == 0x00 && k.hi == 0xFF {
			ip.op = instAltMatch
		}
	}
}

func (p *prog) isMatch(ip inst) bool {
	for {
		switch ip.op {
		case instCapture, instNop:
			ip = p.inst[ip.out]
		case instMatch:
			return true
		default:
			return false
		}
	}
}

// flattenedSize is the number of instructions Prog::Flatten emits: the
// program is cut into lists at "roots" (targets of non-Alt instructions
// and entries shared from outside a dominated region); each list holds its
// reachable non-Alt instructions, and a Nop for each other root it reaches.
func (p *prog) flattenedSize() int {
	roots := newSet()
	roots.insert(0)
	roots.insert(p.startUnanchored)
	roots.insert(p.start)
	preds := map[uint32][]uint32{}
	p.markSuccessors(roots, preds)
	sorted := slices.Clone(roots.order)
	slices.Sort(sorted)
	for i := len(sorted) - 1; i > 0; i-- {
		if id := sorted[i]; id != p.startUnanchored && id != p.start {
			p.markDominator(id, roots, preds)
		}
	}
	size := 0
	for _, root := range roots.order {
		size += p.emitList(root, roots)
	}
	return size
}

func (p *prog) markSuccessors(roots *orderedSet, preds map[uint32][]uint32) {
	reachable := newSet()
	stk := []uint32{p.startUnanchored}
	for len(stk) > 0 {
		id := stk[len(stk)-1]
		stk = stk[:len(stk)-1]
		for reachable.insert(id) {
			ip := p.inst[id]
			switch ip.op {
			case instAlt, instAltMatch:
				preds[ip.out] = append(preds[ip.out], id)
				preds[ip.out1] = append(preds[ip.out1], id)
				stk = append(stk, ip.out1)
				id = ip.out
				continue
			case instByteRange, instCapture, instEmptyWidth:
				roots.insert(ip.out)
				id = ip.out
				continue
			case instNop:
				id = ip.out
				continue
			}
			break
		}
	}
}

// walkList visits what root reaches without passing other roots, calling
// visit for each instruction reached for the first time.
func (p *prog) walkList(root uint32, roots *orderedSet, visit func(id uint32, isOtherRoot bool)) *orderedSet {
	reachable := newSet()
	stk := []uint32{root}
	for len(stk) > 0 {
		id := stk[len(stk)-1]
		stk = stk[:len(stk)-1]
		for reachable.insert(id) {
			if id != root && roots.has[id] {
				visit(id, true)
				break
			}
			visit(id, false)
			ip := p.inst[id]
			if ip.op == instAlt || ip.op == instAltMatch {
				stk = append(stk, ip.out1)
				id = ip.out
				continue
			}
			if ip.op == instNop {
				id = ip.out
				continue
			}
			break
		}
	}
	return reachable
}

func (p *prog) markDominator(root uint32, roots *orderedSet, preds map[uint32][]uint32) {
	reachable := p.walkList(root, roots, func(uint32, bool) {})
	for _, id := range reachable.order {
		for _, pred := range preds[id] {
			if !reachable.has[pred] {
				roots.insert(id)
			}
		}
	}
}

func (p *prog) emitList(root uint32, roots *orderedSet) int {
	n := 0
	p.walkList(root, roots, func(id uint32, isOtherRoot bool) {
		switch op := p.inst[id].op; {
		case isOtherRoot, op == instAltMatch, op == instByteRange, op == instCapture,
			op == instEmptyWidth, op == instMatch, op == instFail:
			n++
		}
	})
	return n
}
