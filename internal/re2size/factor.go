package re2size

// Alternation factoring, after Regexp::FactorAlternation (re2/parse.cc):
// round 1 factors common literal prefixes, round 2 common leading pieces,
// round 3 merges runs of literals and classes into one class. Each round's
// factored groups are factored again recursively (rounds 1 and 2).

// splice replaces sub[start:start+n] by prefix followed by the
// alternation of the (factored) remainders.
type splice struct {
	prefix  *node
	start   int
	n       int
	nsuffix int
}

// factorAlternation factors sub in place and returns the factored list.
func factorAlternation(sub []*node, f flags) []*node {
	for round := 1; round <= 3; round++ {
		var splices []splice
		switch round {
		case 1:
			splices = round1(sub)
		case 2:
			splices = round2(sub)
		case 3:
			splices = round3(sub, f)
		}
		if len(splices) == 0 {
			continue
		}
		if round < 3 {
			for i := range splices {
				s := &splices[i]
				s.nsuffix = len(factorAlternation(sub[s.start:s.start+s.n], f))
			}
		}
		out, i := 0, 0
		for _, s := range splices {
			for i < s.start {
				sub[out] = sub[i]
				out++
				i++
			}
			if round < 3 {
				alt := concatOrAlternate(opAlternate, sub[s.start:s.start+s.nsuffix], f, false)
				sub[out] = &node{op: opConcat, flags: f, subs: []*node{s.prefix, alt}}
			} else {
				sub[out] = s.prefix
			}
			out++
			i += s.n
		}
		for i < len(sub) {
			sub[out] = sub[i]
			out++
			i++
		}
		sub = sub[:out]
	}
	return sub
}

// leadingString is Regexp::LeadingString.
func leadingString(re *node) ([]rune, flags) {
	for re.op == opConcat && len(re.subs) > 0 {
		re = re.subs[0]
	}
	f := re.flags & foldCase
	switch re.op {
	case opLiteral:
		return []rune{re.r}, f
	case opLiteralString:
		return re.runes, f
	}
	return nil, f
}

// removeLeadingString is Regexp::RemoveLeadingString: it removes the first
// n runes in place, dropping emptied pieces from up to four enclosing
// concatenations.
func removeLeadingString(re *node, n int) {
	var stk []*node
	for re.op == opConcat {
		if len(stk) < 4 {
			stk = append(stk, re)
		}
		re = re.subs[0]
	}
	switch re.op {
	case opLiteral:
		re.r = 0
		re.op = opEmptyMatch
	case opLiteralString:
		switch {
		case n >= len(re.runes):
			re.runes = nil
			re.op = opEmptyMatch
		case n == len(re.runes)-1:
			re.r = re.runes[len(re.runes)-1]
			re.runes = nil
			re.op = opLiteral
		default:
			re.runes = append([]rune(nil), re.runes[n:]...)
		}
	}
	for d := len(stk) - 1; d >= 0; d-- {
		re = stk[d]
		if re.subs[0].op != opEmptyMatch {
			continue
		}
		switch len(re.subs) {
		case 0, 1:
			re.subs = nil
			re.op = opEmptyMatch
		case 2:
			*re = *re.subs[1]
		default:
			re.subs = re.subs[1:]
		}
	}
}

// round1 finds runs of alternatives with a common literal prefix.
func round1(sub []*node) []splice {
	var out []splice
	start := 0
	var runes []rune
	var rflags flags
	for i := 0; i <= len(sub); i++ {
		var runesI []rune
		var flagsI flags
		if i < len(sub) {
			runesI, flagsI = leadingString(sub[i])
			if flagsI == rflags {
				same := 0
				for same < len(runes) && same < len(runesI) && runes[same] == runesI[same] {
					same++
				}
				if same > 0 {
					runes = runes[:same]
					continue
				}
			}
		}
		if i-start >= 2 {
			prefix := literalString(runes, rflags)
			for j := start; j < i; j++ {
				removeLeadingString(sub[j], len(runes))
			}
			out = append(out, splice{prefix: prefix, start: start, n: i - start})
		}
		if i < len(sub) {
			start, runes, rflags = i, runesI, flagsI
		}
	}
	return out
}

// leadingRegexp is Regexp::LeadingRegexp.
func leadingRegexp(re *node) *node {
	if re.op == opEmptyMatch {
		return nil
	}
	if re.op == opConcat && len(re.subs) >= 2 {
		if re.subs[0].op == opEmptyMatch {
			return nil
		}
		return re.subs[0]
	}
	return re
}

// removeLeadingRegexp is Regexp::RemoveLeadingRegexp.
func removeLeadingRegexp(re *node) *node {
	if re.op == opEmptyMatch {
		return re
	}
	if re.op == opConcat && len(re.subs) >= 2 {
		if re.subs[0].op == opEmptyMatch {
			return re
		}
		if len(re.subs) == 2 {
			return re.subs[1]
		}
		re.subs = re.subs[1:]
		return re
	}
	return newNode(opEmptyMatch, re.flags)
}

// factorable says whether round 2 may factor a leading piece.
func factorable(first *node) bool {
	switch first.op {
	case opBeginLine, opEndLine, opWordBoundary, opNoWordBoundary, opBeginText, opEndText,
		opCharClass, opAnyChar, opAnyByte:
		return true
	case opRepeat:
		switch first.subs[0].op {
		case opLiteral, opCharClass, opAnyChar, opAnyByte:
			return first.min == first.max
		}
	}
	return false
}

// round2 finds runs of alternatives with a common leading piece.
func round2(sub []*node) []splice {
	var out []splice
	start := 0
	var first *node
	for i := 0; i <= len(sub); i++ {
		var firstI *node
		if i < len(sub) {
			firstI = leadingRegexp(sub[i])
			if first != nil && firstI != nil && factorable(first) && equal(first, firstI) {
				continue
			}
		}
		if i-start >= 2 {
			for j := start; j < i; j++ {
				sub[j] = removeLeadingRegexp(sub[j])
			}
			out = append(out, splice{prefix: first, start: start, n: i - start})
		}
		if i < len(sub) {
			start, first = i, firstI
		}
	}
	return out
}

// round3 merges runs of literals and classes into one class.
func round3(sub []*node, f flags) []splice {
	var out []splice
	start := 0
	var first *node
	isClassy := func(re *node) bool { return re != nil && (re.op == opLiteral || re.op == opCharClass) }
	for i := 0; i <= len(sub); i++ {
		var firstI *node
		if i < len(sub) {
			firstI = sub[i]
			if isClassy(first) && isClassy(firstI) {
				continue
			}
		}
		if i-start >= 2 {
			cc := &charClass{}
			for _, re := range sub[start:i] {
				if re.op == opCharClass {
					for _, r := range re.cc.ranges {
						cc.add(r.lo, r.hi)
					}
				} else if re.flags&foldCase != 0 {
					cc.addFolded(re.r)
				} else {
					cc.add(re.r, re.r)
				}
			}
			out = append(out, splice{prefix: &node{op: opCharClass, flags: f &^ foldCase, cc: cc}, start: start, n: i - start})
		}
		if i < len(sub) {
			start, first = i, firstI
		}
	}
	return out
}
