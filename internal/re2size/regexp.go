package re2size

import (
	"slices"
	"unicode"
)

// op is RE2's RegexpOp (re2/regexp.h), plus the parser's two markers.
type op int

const (
	opNoMatch op = iota + 1
	opEmptyMatch
	opLiteral
	opLiteralString
	opConcat
	opAlternate
	opStar
	opPlus
	opQuest
	opRepeat
	opCapture
	opAnyChar
	opAnyByte
	opBeginLine
	opEndLine
	opWordBoundary
	opNoWordBoundary
	opBeginText
	opEndText
	opCharClass
	opHaveMatch
	opLeftParen   // parser marker
	opVerticalBar // parser marker
)

// flags are RE2's Regexp::ParseFlags, with RE2's bit values.
type flags uint32

const (
	foldCase      flags = 1 << 0
	classNL       flags = 1 << 2
	dotNL         flags = 1 << 3
	oneLine       flags = 1 << 4
	nonGreedy     flags = 1 << 6
	perlClasses   flags = 1 << 7
	perlB         flags = 1 << 8
	perlX         flags = 1 << 9
	unicodeGroups flags = 1 << 10
	wasDollar     flags = 1 << 13
	likePerl            = classNL | oneLine | perlClasses | perlB | perlX | unicodeGroups
)

// runeMax is RE2's Runemax.
const runeMax = unicode.MaxRune

// node is RE2's Regexp. Nodes are shared (RE2's Incref) and some are
// mutated in place, as RE2 does during factoring.
type node struct {
	op    op
	flags flags
	r     rune   // opLiteral
	runes []rune // opLiteralString
	subs  []*node
	min   int // opRepeat
	max   int // opRepeat; -1 is unbounded
	cap   int // opCapture, opLeftParen (-1: no capture)
	name  string
	cc    *charClass // opCharClass
	// builder is set while a class is still RE2's CharClassBuilder (not
	// yet through FinishRegexp): only then does PushRegexp turn a one-rune
	// class or [Aa] into a literal.
	builder bool
	simple  bool
	down    *node // parse stack
}

func newNode(o op, f flags) *node { return &node{op: o, flags: f} }

// runeRange is an inclusive range of runes.
type runeRange struct{ lo, hi rune }

// charClass is RE2's CharClassBuilder/CharClass: sorted, merged ranges.
type charClass struct{ ranges []runeRange }

// add adds lo-hi, merging touching ranges, and reports whether anything
// was new.
func (c *charClass) add(lo, hi rune) bool {
	if lo > hi || c.containsRange(lo, hi) {
		return false
	}
	rs := append(slices.Clone(c.ranges), runeRange{lo, hi})
	slices.SortFunc(rs, func(a, b runeRange) int { return int(a.lo - b.lo) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.lo <= last.hi+1 {
			last.hi = max(last.hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	c.ranges = out
	return true
}

func (c *charClass) containsRange(lo, hi rune) bool {
	for _, r := range c.ranges {
		if r.lo <= lo && hi <= r.hi {
			return true
		}
	}
	return false
}

func (c *charClass) contains(r rune) bool { return c.containsRange(r, r) }

// size is the number of runes in the class.
func (c *charClass) size() int {
	n := 0
	for _, r := range c.ranges {
		n += int(r.hi-r.lo) + 1
	}
	return n
}

func (c *charClass) empty() bool { return len(c.ranges) == 0 }
func (c *charClass) full() bool  { return c.size() == runeMax+1 }

// foldsASCII reports whether every ASCII letter in the class has its other
// case in the class too (CharClassBuilder::FoldsASCII).
func (c *charClass) foldsASCII() bool {
	for l := 'a'; l <= 'z'; l++ {
		if c.contains(l) != c.contains(l-'a'+'A') {
			return false
		}
	}
	return true
}

func (c *charClass) equal(d *charClass) bool { return slices.Equal(c.ranges, d.ranges) }

// addFolded adds r and every rune it folds to (AddFoldedRange for one rune).
func (c *charClass) addFolded(r rune) {
	for f := r; ; {
		c.add(f, f)
		if f = unicode.SimpleFold(f); f == r {
			return
		}
	}
}

// orbit is the fold orbit of r: r and every rune it folds to.
func orbit(r rune) *charClass {
	c := &charClass{}
	c.addFolded(r)
	return c
}

// starPlusOrQuest is Regexp::StarPlusOrQuest, which squashes nested
// repetitions.
func starPlusOrQuest(o op, sub *node, f flags) *node {
	if o == sub.op && f == sub.flags {
		return sub
	}
	if (sub.op == opStar || sub.op == opPlus || sub.op == opQuest) && f == sub.flags {
		if sub.op == opStar {
			return sub
		}
		return &node{op: opStar, flags: f, subs: []*node{sub.subs[0]}}
	}
	return &node{op: o, flags: f, subs: []*node{sub}}
}

// maxNsub is RE2's Regexp::kMaxNsub.
const maxNsub = 1<<16 - 1

// concatOrAlternate is Regexp::ConcatOrAlternate.
func concatOrAlternate(o op, subs []*node, f flags, canFactor bool) *node {
	if len(subs) == 1 {
		return subs[0]
	}
	if len(subs) == 0 {
		if o == opAlternate {
			return newNode(opNoMatch, f)
		}
		return newNode(opEmptyMatch, f)
	}
	if o == opAlternate && canFactor {
		subs = factorAlternation(slices.Clone(subs), f)
		if len(subs) == 1 {
			return subs[0]
		}
	}
	if len(subs) > maxNsub {
		re := newNode(o, f)
		for i := 0; i < len(subs); i += maxNsub {
			re.subs = append(re.subs, concatOrAlternate(o, subs[i:min(i+maxNsub, len(subs))], f, false))
		}
		return re
	}
	return &node{op: o, flags: f, subs: slices.Clone(subs)}
}

func concat(subs []*node, f flags) *node { return concatOrAlternate(opConcat, subs, f, false) }

// literalString is Regexp::LiteralString.
func literalString(runes []rune, f flags) *node {
	switch len(runes) {
	case 0:
		return newNode(opEmptyMatch, f)
	case 1:
		return &node{op: opLiteral, flags: f, r: runes[0]}
	}
	return &node{op: opLiteralString, flags: f, runes: slices.Clone(runes)}
}

// equal is Regexp::Equal.
func equal(a, b *node) bool {
	if !topEqual(a, b) {
		return false
	}
	for i := range a.subs {
		if !equal(a.subs[i], b.subs[i]) {
			return false
		}
	}
	return true
}

func topEqual(a, b *node) bool {
	if a.op != b.op {
		return false
	}
	switch a.op {
	case opEndText:
		return (a.flags^b.flags)&wasDollar == 0
	case opLiteral:
		return a.r == b.r && (a.flags^b.flags)&foldCase == 0
	case opLiteralString:
		return (a.flags^b.flags)&foldCase == 0 && slices.Equal(a.runes, b.runes)
	case opAlternate, opConcat:
		return len(a.subs) == len(b.subs)
	case opStar, opPlus, opQuest:
		return (a.flags^b.flags)&nonGreedy == 0
	case opRepeat:
		return (a.flags^b.flags)&nonGreedy == 0 && a.min == b.min && a.max == b.max
	case opCapture:
		return a.cap == b.cap && a.name == b.name
	case opCharClass:
		return a.cc.equal(b.cc)
	}
	return true
}

// computeSimple is Regexp::ComputeSimple.
func computeSimple(re *node) bool {
	switch re.op {
	case opConcat, opAlternate:
		for _, s := range re.subs {
			if !s.simple {
				return false
			}
		}
		return true
	case opCharClass:
		return !re.cc.empty() && !re.cc.full()
	case opCapture:
		return re.subs[0].simple
	case opStar, opPlus, opQuest:
		s := re.subs[0]
		if !s.simple {
			return false
		}
		switch s.op {
		case opStar, opPlus, opQuest, opEmptyMatch, opNoMatch:
			return false
		}
		return true
	case opRepeat:
		return false
	}
	return true
}
