package re2size

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// parser is RE2's Regexp::ParseState (re2/parse.cc): a stack of parsed
// pieces, collapsed into concatenations and factored alternations. The
// pattern has already been checked by Go's parser, so syntax errors are
// not looked for again here.
type parser struct {
	flags    flags
	stacktop *node
	ncap     int
}

// parse parses pattern with RE2's default options (RE2::Options:
// LikePerl plus ClassNL, UTF-8), as Envoy does.
func parse(pattern string) (*node, error) {
	if _, err := syntax.Parse(pattern, syntax.Perl); err != nil {
		return nil, err
	}
	p := &parser{flags: classNL | likePerl}
	t := pattern
	for t != "" {
		var err error
		switch t[0] {
		case '(':
			if strings.HasPrefix(t, "(?") {
				t = p.perlFlags(t)
				break
			}
			p.doLeftParen("")
			t = t[1:]
		case '|':
			p.doVerticalBar()
			t = t[1:]
		case ')':
			p.doRightParen()
			t = t[1:]
		case '^':
			p.pushCaret()
			t = t[1:]
		case '$':
			p.pushDollar()
			t = t[1:]
		case '.':
			p.pushDot()
			t = t[1:]
		case '[':
			n := classLen(t)
			err = p.pushClass(t[:n])
			t = t[n:]
		case '*', '+', '?':
			o := map[byte]op{'*': opStar, '+': opPlus, '?': opQuest}[t[0]]
			t = t[1:]
			ng := strings.HasPrefix(t, "?")
			if ng {
				t = t[1:]
			}
			p.pushRepeatOp(o, ng)
		case '{':
			lo, hi, rest, ok := parseRepetition(t)
			if !ok {
				p.pushLiteral('{')
				t = t[1:]
				break
			}
			t = rest
			ng := strings.HasPrefix(t, "?")
			if ng {
				t = t[1:]
			}
			p.pushRepetition(lo, hi, ng)
		case '\\':
			t, err = p.escape(t)
		default:
			r, n := utf8.DecodeRuneInString(t)
			p.pushLiteral(r)
			t = t[n:]
		}
		if err != nil {
			return nil, err
		}
	}
	return p.doFinish(), nil
}

// escape handles a backslash sequence at the start of t.
func (p *parser) escape(t string) (string, error) {
	if len(t) < 2 {
		return "", fmt.Errorf("trailing backslash")
	}
	switch t[1] {
	case 'b', 'B':
		p.pushSimpleOp(map[bool]op{true: opWordBoundary, false: opNoWordBoundary}[t[1] == 'b'])
		return t[2:], nil
	case 'A':
		p.pushSimpleOp(opBeginText)
		return t[2:], nil
	case 'z':
		p.pushSimpleOp(opEndText)
		return t[2:], nil
	case 'C':
		p.pushSimpleOp(opAnyByte)
		return t[2:], nil
	case 'Q':
		t = t[2:]
		for t != "" {
			if strings.HasPrefix(t, `\E`) {
				return t[2:], nil
			}
			r, n := utf8.DecodeRuneInString(t)
			p.pushLiteral(r)
			t = t[n:]
		}
		return t, nil
	case 'p', 'P', 'd', 'D', 's', 'S', 'w', 'W':
		n := escapeLen(t)
		return t[n:], p.pushClass(t[:n])
	}
	n := escapeLen(t)
	re, err := syntax.Parse(t[:n], syntax.Perl)
	if err != nil {
		return "", err
	}
	if re.Op != syntax.OpLiteral || len(re.Rune) != 1 {
		return "", fmt.Errorf("escape %q is not one character", t[:n])
	}
	p.pushLiteral(re.Rune[0])
	return t[n:], nil
}

// escapeLen is the length of the escape sequence at the start of t.
func escapeLen(t string) int {
	c := t[1]
	switch {
	case c >= '0' && c <= '7':
		n := 2
		for n < len(t) && n < 4 && t[n] >= '0' && t[n] <= '7' {
			n++
		}
		return n
	case c == 'x' || c == 'p' || c == 'P':
		if strings.HasPrefix(t[2:], "{") {
			return 2 + strings.IndexByte(t[2:], '}') + 1
		}
		if c == 'x' {
			return 4
		}
		_, n := utf8.DecodeRuneInString(t[2:])
		return 2 + n
	}
	_, n := utf8.DecodeRuneInString(t[1:])
	return 1 + n
}

// classLen is the length of the bracketed class at the start of t.
func classLen(t string) int {
	i := 1
	if strings.HasPrefix(t[i:], "^") {
		i++
	}
	for first := true; i < len(t); first = false {
		switch {
		case t[i] == ']' && !first:
			return i + 1
		case strings.HasPrefix(t[i:], "[:") && strings.Contains(t[i+2:], ":]"):
			i += 2 + strings.Index(t[i+2:], ":]") + 2
		case t[i] == '\\':
			i += escapeLen(t[i:])
		default:
			_, n := utf8.DecodeRuneInString(t[i:])
			i += n
		}
	}
	return len(t)
}

// pushClass pushes the class that Go's parser reads from text (a bracketed
// class, \pN, \d, ...), case-folded as RE2 does under (?i).
func (p *parser) pushClass(text string) error {
	prefix := ""
	if p.flags&foldCase != 0 {
		prefix = "(?i)"
	}
	re, err := syntax.Parse(prefix+text, syntax.Perl)
	if err != nil {
		return err
	}
	cc := &charClass{}
	switch re.Op {
	case syntax.OpCharClass:
		for i := 0; i < len(re.Rune); i += 2 { // sorted and merged by Go
			cc.ranges = append(cc.ranges, runeRange{re.Rune[i], re.Rune[i+1]})
		}
	case syntax.OpLiteral: // Go turns [a] and [Aa] into literals
		if re.Flags&syntax.FoldCase != 0 {
			cc = orbit(re.Rune[0])
		} else {
			cc.add(re.Rune[0], re.Rune[0])
		}
	case syntax.OpAnyChar:
		cc.add(0, runeMax)
	case syntax.OpAnyCharNotNL:
		cc.add(0, '\n'-1)
		cc.add('\n'+1, runeMax)
	case syntax.OpNoMatch:
	default:
		return fmt.Errorf("class %q parsed as %v", text, re.Op)
	}
	p.pushRegexp(&node{op: opCharClass, flags: p.flags &^ foldCase, cc: cc, builder: true})
	return nil
}

// parseRepetition is MaybeParseRepetition: {n}, {n,} or {n,m}.
func parseRepetition(t string) (lo, hi int, rest string, ok bool) {
	s := t[1:]
	if lo, s, ok = parseInt(s); !ok || s == "" {
		return 0, 0, t, false
	}
	hi = lo
	if s[0] == ',' {
		s = s[1:]
		if s == "" {
			return 0, 0, t, false
		}
		if s[0] == '}' {
			hi = -1
		} else if hi, s, ok = parseInt(s); !ok {
			return 0, 0, t, false
		}
	}
	if s == "" || s[0] != '}' {
		return 0, 0, t, false
	}
	return lo, hi, s[1:], true
}

// parseInt is RE2's ParseInteger: digits without a leading zero.
func parseInt(s string) (int, string, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' || len(s) >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9' {
		return 0, s, false
	}
	n := 0
	for s != "" && s[0] >= '0' && s[0] <= '9' {
		if n >= 100000000 {
			n = -1
		} else if n >= 0 {
			n = n*10 + int(s[0]-'0')
		}
		s = s[1:]
	}
	return n, s, true
}

// perlFlags is ParsePerlFlags: (?P<name>, (?<name>, (?flags) and (?flags:.
func (p *parser) perlFlags(t string) string {
	if strings.HasPrefix(t, "(?P<") || strings.HasPrefix(t, "(?<") {
		begin := strings.IndexByte(t, '<') + 1
		end := begin + strings.IndexByte(t[begin:], '>')
		p.doLeftParen(t[begin:end])
		return t[end+1:]
	}
	t = t[2:]
	nflags := p.flags
	negated := false
	for {
		c := t[0]
		t = t[1:]
		switch c {
		case 'i':
			nflags = setFlag(nflags, foldCase, !negated)
		case 'm': // the opposite of RE2's OneLine
			nflags = setFlag(nflags, oneLine, negated)
		case 's':
			nflags = setFlag(nflags, dotNL, !negated)
		case 'U':
			nflags = setFlag(nflags, nonGreedy, !negated)
		case '-':
			negated = true
		case ':':
			p.doLeftParenNoCapture()
			p.flags = nflags
			return t
		case ')':
			p.flags = nflags
			return t
		}
	}
}

func setFlag(f, bit flags, on bool) flags {
	if on {
		return f | bit
	}
	return f &^ bit
}
