package re2size

import "errors"

// errTooLarge reports a pattern RE2 would refuse to compile ("pattern too
// large - compile failed"), or that this package stops measuring.
var errTooLarge = errors.New("pattern too large for RE2 to compile")

// maxVisits is the Walker's default visit budget (re2/walker-inl.h); a
// walk past it makes Simplify fail.
const maxVisits = 1000000

// simplifier runs RE2's Regexp::Simplify (re2/simplify.cc): the
// CoalesceWalker, then the SimplifyWalker.
type simplifier struct {
	visits int
	// re2v2022 leaves repeated empty-width assertions expanded, as RE2
	// did before 2023-08-01 (the libre2 that measured the corpus).
	re2v2022 bool
}

func simplify(re *node, re2v2022 bool) (*node, error) {
	s := &simplifier{re2v2022: re2v2022}
	cre := s.coalesce(re)
	s.visits = 0
	sre := s.simplify(cre)
	if s.visits > maxVisits {
		return nil, errTooLarge
	}
	return sre, nil
}

// children walks re's subexpressions with walk, reusing the previous
// result for a repeated pointer as the Walker's Copy does.
func (s *simplifier) children(re *node, walk func(*node) *node) ([]*node, bool) {
	args := make([]*node, len(re.subs))
	changed := false
	for i, sub := range re.subs {
		if i > 0 && sub == re.subs[i-1] {
			args[i] = args[i-1]
		} else {
			args[i] = walk(sub)
		}
		changed = changed || args[i] != sub
	}
	return args, changed
}

// coalesce is CoalesceWalker: in a concatenation, x* x+ and similar runs
// of one repeated piece become one repeat.
func (s *simplifier) coalesce(re *node) *node {
	if s.visits++; s.visits > maxVisits || len(re.subs) == 0 {
		return re
	}
	args, changed := s.children(re, s.coalesce)
	if re.op != opConcat {
		if !changed {
			return re
		}
		return &node{op: re.op, flags: re.flags, subs: args, min: re.min, max: re.max, cap: re.cap}
	}
	can := false
	for i := 0; i+1 < len(args); i++ {
		if canCoalesce(args[i], args[i+1]) {
			can = true
			break
		}
	}
	if !can {
		if !changed {
			return re
		}
		return &node{op: re.op, flags: re.flags, subs: args}
	}
	for i := 0; i+1 < len(args); i++ {
		if canCoalesce(args[i], args[i+1]) {
			args[i], args[i+1] = doCoalesce(args[i], args[i+1])
		}
	}
	nre := &node{op: re.op, flags: re.flags}
	for _, a := range args {
		if a.op != opEmptyMatch {
			nre.subs = append(nre.subs, a)
		}
	}
	return nre
}

func isRepeatOp(o op) bool { return o == opStar || o == opPlus || o == opQuest || o == opRepeat }

// canCoalesce is CoalesceWalker::CanCoalesce.
func canCoalesce(r1, r2 *node) bool {
	if !isRepeatOp(r1.op) {
		return false
	}
	sub := r1.subs[0]
	switch sub.op {
	case opLiteral, opCharClass, opAnyChar, opAnyByte:
	default:
		return false
	}
	if isRepeatOp(r2.op) && equal(sub, r2.subs[0]) && r1.flags&nonGreedy == r2.flags&nonGreedy {
		return true
	}
	if equal(sub, r2) {
		return true
	}
	return sub.op == opLiteral && r2.op == opLiteralString && r2.runes[0] == sub.r &&
		sub.flags&foldCase == r2.flags&foldCase
}

// doCoalesce is CoalesceWalker::DoCoalesce.
func doCoalesce(r1, r2 *node) (*node, *node) {
	nre := &node{op: opRepeat, flags: r1.flags, subs: []*node{r1.subs[0]}}
	switch r1.op {
	case opStar:
		nre.min, nre.max = 0, -1
	case opPlus:
		nre.min, nre.max = 1, -1
	case opQuest:
		nre.min, nre.max = 0, 1
	case opRepeat:
		nre.min, nre.max = r1.min, r1.max
	}
	empty := func() (*node, *node) { return newNode(opEmptyMatch, 0), nre }
	switch r2.op {
	case opStar:
		nre.max = -1
	case opPlus:
		nre.min++
		nre.max = -1
	case opQuest:
		if nre.max != -1 {
			nre.max++
		}
	case opRepeat:
		nre.min += r2.min
		if r2.max == -1 {
			nre.max = -1
		} else if nre.max != -1 {
			nre.max += r2.max
		}
	case opLiteral, opCharClass, opAnyChar, opAnyByte:
		nre.min++
		if nre.max != -1 {
			nre.max++
		}
	case opLiteralString:
		r := r1.subs[0].r
		n := 1
		for n < len(r2.runes) && r2.runes[n] == r {
			n++
		}
		nre.min += n
		if nre.max != -1 {
			nre.max += n
		}
		if n < len(r2.runes) {
			return nre, literalString(r2.runes[n:], r2.flags)
		}
	}
	return empty()
}

// simplify is SimplifyWalker: repeats are expanded, empty and full
// classes replaced; pieces already simple are left alone.
func (s *simplifier) simplify(re *node) *node {
	if s.visits++; s.visits > maxVisits || re.simple {
		return re
	}
	args, changed := s.children(re, s.simplify)
	switch re.op {
	case opConcat, opAlternate:
		if !changed {
			re.simple = true
			return re
		}
		return &node{op: re.op, flags: re.flags, subs: args, simple: true}
	case opCapture:
		if args[0] == re.subs[0] {
			re.simple = true
			return re
		}
		return &node{op: opCapture, flags: re.flags, subs: args, cap: re.cap, simple: true}
	case opStar, opPlus, opQuest:
		sub := args[0]
		switch {
		case sub.op == opEmptyMatch:
			return sub
		case sub == re.subs[0]:
			re.simple = true
			return re
		case re.op == sub.op && re.flags == sub.flags:
			return sub
		}
		return &node{op: re.op, flags: re.flags, subs: args, simple: true}
	case opRepeat:
		sub := args[0]
		if sub.op == opEmptyMatch {
			return sub
		}
		nre := simplifyRepeat(sub, re.min, re.max, re.flags, s.re2v2022)
		nre.simple = true
		return nre
	case opCharClass:
		nre := re
		if re.cc.empty() {
			nre = newNode(opNoMatch, re.flags)
		} else if re.cc.full() {
			nre = newNode(opAnyChar, re.flags)
		}
		nre.simple = true
		return nre
	}
	re.simple = true
	return re
}

func isEmptyOp(re *node) bool {
	switch re.op {
	case opBeginLine, opEndLine, opWordBoundary, opNoWordBoundary, opBeginText, opEndText:
		return true
	}
	return false
}

// simplifyRepeat is SimplifyWalker::SimplifyRepeat: x{n,m} becomes n
// copies of x followed by nested optional copies, x{n,} n-1 copies and x+.
// Since RE2 2023-08-01 an empty-width assertion repeats at most once.
func simplifyRepeat(re *node, lo, hi int, f flags, re2v2022 bool) *node {
	allEmpty := re.op == opConcat || re.op == opAlternate
	for _, s := range re.subs {
		allEmpty = allEmpty && isEmptyOp(s)
	}
	if (isEmptyOp(re) || allEmpty) && !re2v2022 {
		lo, hi = min(lo, 1), min(hi, 1)
	}
	if hi == -1 {
		switch lo {
		case 0:
			return starPlusOrQuest(opStar, re, f)
		case 1:
			return starPlusOrQuest(opPlus, re, f)
		}
		subs := make([]*node, lo)
		for i := range lo - 1 {
			subs[i] = re
		}
		subs[lo-1] = starPlusOrQuest(opPlus, re, f)
		return concat(subs, f)
	}
	if lo == 0 && hi == 0 {
		return newNode(opEmptyMatch, f)
	}
	if lo == 1 && hi == 1 {
		return re
	}
	var nre *node
	if lo > 0 {
		subs := make([]*node, lo)
		for i := range subs {
			subs[i] = re
		}
		nre = concat(subs, f)
	}
	if hi > lo {
		suf := starPlusOrQuest(opQuest, re, f)
		for i := lo + 1; i < hi; i++ {
			suf = starPlusOrQuest(opQuest, &node{op: opConcat, flags: f, subs: []*node{re, suf}}, f)
		}
		if nre == nil {
			nre = suf
		} else {
			nre = &node{op: opConcat, flags: f, subs: []*node{nre, suf}}
		}
	}
	if nre == nil {
		return newNode(opNoMatch, f)
	}
	return nre
}
