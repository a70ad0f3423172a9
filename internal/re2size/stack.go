package re2size

import "unicode"

// The parse stack's operations, after Regexp::ParseState (re2/parse.cc).

func isMarker(o op) bool { return o >= opLeftParen }

// finish is FinishRegexp: the node leaves the stack and a class stops
// being a builder.
func finish(re *node) *node {
	if re == nil {
		return nil
	}
	re.down = nil
	if re.op == opCharClass {
		re.builder = false
	}
	return re
}

// pushRegexp is PushRegexp: a one-rune class becomes a literal, [Aa] a
// case-folded literal.
func (p *parser) pushRegexp(re *node) {
	p.maybeConcatString(-1, 0)
	if re.op == opCharClass && re.builder {
		switch re.cc.size() {
		case 1:
			re = &node{op: opLiteral, flags: p.flags, r: re.cc.ranges[0].lo}
		case 2:
			r := re.cc.ranges[0].lo
			if 'A' <= r && r <= 'Z' && re.cc.contains(r+'a'-'A') {
				re = &node{op: opLiteral, flags: p.flags | foldCase, r: r + 'a' - 'A'}
			}
		}
	}
	if !isMarker(re.op) {
		re.simple = computeSimple(re)
	}
	re.down = p.stacktop
	p.stacktop = re
}

// pushLiteral is PushLiteral: under (?i) a rune with other cases becomes
// the class of its fold orbit.
func (p *parser) pushLiteral(r rune) {
	if p.flags&foldCase != 0 && unicode.SimpleFold(r) != r {
		p.pushRegexp(&node{op: opCharClass, flags: p.flags &^ foldCase, cc: orbit(r), builder: true})
		return
	}
	if p.maybeConcatString(r, p.flags) {
		return
	}
	p.pushRegexp(&node{op: opLiteral, flags: p.flags, r: r})
}

func (p *parser) pushCaret() {
	if p.flags&oneLine != 0 {
		p.pushSimpleOp(opBeginText)
		return
	}
	p.pushSimpleOp(opBeginLine)
}

func (p *parser) pushDollar() {
	if p.flags&oneLine != 0 {
		p.pushRegexp(newNode(opEndText, p.flags|wasDollar))
		return
	}
	p.pushSimpleOp(opEndLine)
}

// pushDot is PushDot: without (?s), . is the class [^\n].
func (p *parser) pushDot() {
	if p.flags&dotNL != 0 {
		p.pushSimpleOp(opAnyChar)
		return
	}
	cc := &charClass{}
	cc.add(0, '\n'-1)
	cc.add('\n'+1, runeMax)
	p.pushRegexp(&node{op: opCharClass, flags: p.flags &^ foldCase, cc: cc, builder: true})
}

func (p *parser) pushSimpleOp(o op) { p.pushRegexp(newNode(o, p.flags)) }

// pushRepeatOp is PushRepeatOp, which squashes **, ++, ?? and mixed pairs.
func (p *parser) pushRepeatOp(o op, nongreedy bool) {
	fl := p.flags
	if nongreedy {
		fl ^= nonGreedy
	}
	top := p.stacktop
	if o == top.op && fl == top.flags {
		return
	}
	if (top.op == opStar || top.op == opPlus || top.op == opQuest) && fl == top.flags {
		top.op = opStar
		return
	}
	re := &node{op: o, flags: fl, down: top.down}
	re.subs = []*node{finish(top)}
	re.simple = computeSimple(re)
	p.stacktop = re
}

// pushRepetition is PushRepetition ({n,m}; the bounds were checked by Go).
func (p *parser) pushRepetition(lo, hi int, nongreedy bool) {
	fl := p.flags
	if nongreedy {
		fl ^= nonGreedy
	}
	top := p.stacktop
	re := &node{op: opRepeat, flags: fl, min: lo, max: hi, down: top.down}
	re.subs = []*node{finish(top)}
	re.simple = computeSimple(re)
	p.stacktop = re
}

func (p *parser) doLeftParen(name string) {
	p.ncap++
	p.pushRegexp(&node{op: opLeftParen, flags: p.flags, cap: p.ncap, name: name})
}

func (p *parser) doLeftParenNoCapture() {
	p.pushRegexp(&node{op: opLeftParen, flags: p.flags, cap: -1})
}

// doVerticalBar is DoVerticalBar; AnyChar subsumes a neighbouring literal
// or class.
func (p *parser) doVerticalBar() {
	p.maybeConcatString(-1, 0)
	p.doConcatenation()
	r1 := p.stacktop
	if r1 != nil && r1.down != nil && r1.down.op == opVerticalBar {
		r2 := r1.down
		if r3 := r2.down; r3 != nil && (r1.op == opAnyChar || r3.op == opAnyChar) {
			if r3.op == opAnyChar && (r1.op == opLiteral || r1.op == opCharClass || r1.op == opAnyChar) {
				p.stacktop = r2
				return
			}
			if r1.op == opAnyChar && (r3.op == opLiteral || r3.op == opCharClass || r3.op == opAnyChar) {
				r1.down = r3.down
				r2.down = r1
				p.stacktop = r2
				return
			}
		}
		r1.down = r2.down
		r2.down = r1
		p.stacktop = r2
		return
	}
	p.pushSimpleOp(opVerticalBar)
}

// doRightParen is DoRightParen.
func (p *parser) doRightParen() {
	p.doAlternation()
	r1 := p.stacktop
	r2 := r1.down
	p.stacktop = r2.down
	re := r2
	p.flags = re.flags
	if re.cap > 0 {
		re.op = opCapture
		re.subs = []*node{finish(r1)}
		re.simple = computeSimple(re)
	} else {
		re = r1
	}
	p.pushRegexp(re)
}

func (p *parser) doFinish() *node {
	p.doAlternation()
	re := p.stacktop
	p.stacktop = nil
	return finish(re)
}

// doCollapse is DoCollapse: the pieces above the nearest marker become one
// concatenation or (factored) alternation.
func (p *parser) doCollapse(o op) {
	var next *node
	n := 0
	for sub := p.stacktop; sub != nil && !isMarker(sub.op); sub = next {
		next = sub.down
		if sub.op == o {
			n += len(sub.subs)
		} else {
			n++
		}
	}
	if p.stacktop != nil && p.stacktop.down == next {
		return
	}
	subs := make([]*node, n)
	i := n
	for sub := p.stacktop; sub != nil && !isMarker(sub.op); sub = next {
		next = sub.down
		if sub.op == o {
			for k := len(sub.subs) - 1; k >= 0; k-- {
				i--
				subs[i] = sub.subs[k]
			}
		} else {
			i--
			subs[i] = finish(sub)
		}
	}
	re := concatOrAlternate(o, subs, p.flags, true)
	re.simple = computeSimple(re)
	re.down = next
	p.stacktop = re
}

func (p *parser) doConcatenation() {
	if r1 := p.stacktop; r1 == nil || isMarker(r1.op) {
		p.pushRegexp(newNode(opEmptyMatch, p.flags))
	}
	p.doCollapse(opConcat)
}

func (p *parser) doAlternation() {
	p.doVerticalBar()
	p.stacktop = p.stacktop.down
	p.doCollapse(opAlternate)
}

// maybeConcatString is MaybeConcatString: two literals on top of the
// stack with the same case folding become one string. With r >= 0 the top
// is reused for r and true is returned.
func (p *parser) maybeConcatString(r rune, f flags) bool {
	re1 := p.stacktop
	if re1 == nil || re1.down == nil {
		return false
	}
	re2 := re1.down
	if re1.op != opLiteral && re1.op != opLiteralString || re2.op != opLiteral && re2.op != opLiteralString {
		return false
	}
	if re1.flags&foldCase != re2.flags&foldCase {
		return false
	}
	if re2.op == opLiteral {
		re2.op = opLiteralString
		re2.runes = []rune{re2.r}
	}
	if re1.op == opLiteral {
		re2.runes = append(re2.runes, re1.r)
	} else {
		re2.runes = append(re2.runes, re1.runes...)
		re1.runes = nil
	}
	if r >= 0 {
		re1.op = opLiteral
		re1.r = r
		re1.flags = f
		return true
	}
	p.stacktop = re2
	return false
}
