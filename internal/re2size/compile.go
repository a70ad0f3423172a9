package re2size

// The compiler, after re2/compile.cc. Instruction numbering follows RE2's
// exactly (Flatten's result depends on it), including the rune cache that
// shares UTF-8 suffixes within one character class.

type instOp uint8

const (
	instAlt instOp = iota
	instAltMatch
	instByteRange
	instCapture
	instEmptyWidth
	instMatch
	instNop
	instFail
)

type inst struct {
	op       instOp
	out      uint32
	out1     uint32
	lo, hi   uint8
	foldcase bool
}

// patchList is a list of instruction outputs still to be filled in; an
// entry is id<<1 (out) or id<<1|1 (out1).
type patchList struct{ head, tail uint32 }

// frag is a compiled fragment; begin 0 means it can never match.
type frag struct {
	begin    uint32
	end      patchList
	nullable bool
}

// maxInst is about the instruction budget RE2 gives the forward program:
// two thirds of the default 8 MiB max_mem, at 8 bytes an instruction
// (Compiler::Setup, RE2::Init). A pattern past it fails to compile.
const maxInst = (8 << 20) * 2 / 3 / 8

type compiler struct {
	inst      []inst
	failed    bool
	runeCache map[uint64]uint32
	runeRange frag
}

func (c *compiler) patch(l patchList, p uint32) {
	for l.head != 0 {
		ip := &c.inst[l.head>>1]
		if l.head&1 != 0 {
			l.head = ip.out1
			ip.out1 = p
		} else {
			l.head = ip.out
			ip.out = p
		}
	}
}

func (c *compiler) appendList(l1, l2 patchList) patchList {
	if l1.head == 0 {
		return l2
	}
	if l2.head == 0 {
		return l1
	}
	ip := &c.inst[l1.tail>>1]
	if l1.tail&1 != 0 {
		ip.out1 = l2.head
	} else {
		ip.out = l2.head
	}
	return patchList{l1.head, l2.tail}
}

func (c *compiler) alloc(n int) (uint32, bool) {
	if c.failed || len(c.inst)+n > maxInst {
		c.failed = true
		return 0, false
	}
	id := uint32(len(c.inst))
	for range n {
		c.inst = append(c.inst, inst{})
	}
	return id, true
}

func mk(p uint32) patchList { return patchList{p, p} }

func (c *compiler) cat(a, b frag) frag {
	if a.begin == 0 || b.begin == 0 {
		return frag{}
	}
	if begin := c.inst[a.begin]; begin.op == instNop && a.end.head == a.begin<<1 && begin.out == 0 {
		c.patch(a.end, b.begin)
		return b
	}
	c.patch(a.end, b.begin)
	return frag{a.begin, b.end, a.nullable && b.nullable}
}

func (c *compiler) alt(a, b frag) frag {
	if a.begin == 0 {
		return b
	}
	if b.begin == 0 {
		return a
	}
	id, ok := c.alloc(1)
	if !ok {
		return frag{}
	}
	c.inst[id] = inst{op: instAlt, out: a.begin, out1: b.begin}
	return frag{id, c.appendList(a.end, b.end), a.nullable || b.nullable}
}

// loop allocates the Alt of x*, x+ and x? and returns it with its exit.
func (c *compiler) loop(a frag, nongreedy bool) (uint32, patchList, bool) {
	id, ok := c.alloc(1)
	if !ok {
		return 0, patchList{}, false
	}
	if nongreedy {
		c.inst[id] = inst{op: instAlt, out1: a.begin}
		return id, mk(id << 1), true
	}
	c.inst[id] = inst{op: instAlt, out: a.begin}
	return id, mk(id<<1 | 1), true
}

func (c *compiler) plus(a frag, nongreedy bool) frag {
	id, pl, ok := c.loop(a, nongreedy)
	if !ok {
		return frag{}
	}
	c.patch(a.end, id)
	return frag{a.begin, pl, a.nullable}
}

func (c *compiler) star(a frag, nongreedy bool) frag {
	// A nullable x* is compiled as (x+)? (RE2's fix for priority order).
	if a.nullable {
		return c.quest(c.plus(a, nongreedy), nongreedy)
	}
	id, pl, ok := c.loop(a, nongreedy)
	if !ok {
		return frag{}
	}
	c.patch(a.end, id)
	return frag{id, pl, true}
}

func (c *compiler) quest(a frag, nongreedy bool) frag {
	if a.begin == 0 {
		return c.nop()
	}
	id, pl, ok := c.loop(a, nongreedy)
	if !ok {
		return frag{}
	}
	return frag{id, c.appendList(pl, a.end), true}
}

func (c *compiler) single(in inst, nullable bool) frag {
	id, ok := c.alloc(1)
	if !ok {
		return frag{}
	}
	c.inst[id] = in
	if in.op == instMatch {
		return frag{begin: id}
	}
	return frag{id, mk(id << 1), nullable}
}

func (c *compiler) byteRange(lo, hi uint8, fold bool) frag {
	return c.single(inst{op: instByteRange, lo: lo, hi: hi, foldcase: fold}, false)
}

func (c *compiler) nop() frag { return c.single(inst{op: instNop}, true) }

func (c *compiler) emptyWidth() frag { return c.single(inst{op: instEmptyWidth}, true) }

func (c *compiler) capture(a frag) frag {
	if a.begin == 0 {
		return frag{}
	}
	id, ok := c.alloc(2)
	if !ok {
		return frag{}
	}
	c.inst[id] = inst{op: instCapture, out: a.begin}
	c.inst[id+1] = inst{op: instCapture}
	c.patch(a.end, id+1)
	return frag{id, mk((id + 1) << 1), a.nullable}
}

// literal is Compiler::Literal: ASCII as one (maybe case-folded) byte,
// anything else as its UTF-8 bytes.
func (c *compiler) literal(r rune, fold bool) frag {
	if r < 0x80 {
		return c.byteRange(uint8(r), uint8(r), fold)
	}
	b := encodeRune(r)
	f := c.byteRange(b[0], b[0], false)
	for _, x := range b[1:] {
		f = c.cat(f, c.byteRange(x, x, false))
	}
	return f
}

// compileNode is Compiler::PostVisit over the whole tree (children first,
// left to right, as the Walker visits them).
func (c *compiler) compileNode(re *node) frag {
	if c.failed {
		return frag{}
	}
	kids := make([]frag, len(re.subs))
	for i, s := range re.subs {
		kids[i] = c.compileNode(s)
	}
	if c.failed {
		return frag{}
	}
	ng := re.flags&nonGreedy != 0
	switch re.op {
	case opNoMatch:
		return frag{}
	case opEmptyMatch:
		return c.nop()
	case opConcat:
		f := kids[0]
		for _, k := range kids[1:] {
			f = c.cat(f, k)
		}
		return f
	case opAlternate:
		f := kids[0]
		for _, k := range kids[1:] {
			f = c.alt(f, k)
		}
		return f
	case opStar:
		return c.star(kids[0], ng)
	case opPlus:
		return c.plus(kids[0], ng)
	case opQuest:
		return c.quest(kids[0], ng)
	case opLiteral:
		return c.literal(re.r, re.flags&foldCase != 0)
	case opLiteralString:
		var f frag
		for i, r := range re.runes {
			f1 := c.literal(r, re.flags&foldCase != 0)
			if i == 0 {
				f = f1
			} else {
				f = c.cat(f, f1)
			}
		}
		return f
	case opAnyChar:
		c.beginRange()
		c.addRuneRange(0, runeMax, false)
		return c.runeRange
	case opAnyByte:
		return c.byteRange(0x00, 0xff, false)
	case opCharClass:
		return c.charClass(re.cc)
	case opCapture:
		if re.cap < 0 {
			return kids[0]
		}
		return c.capture(kids[0])
	case opBeginLine, opEndLine, opBeginText, opEndText, opWordBoundary, opNoWordBoundary:
		return c.emptyWidth()
	}
	c.failed = true // opRepeat and markers never reach the compiler
	return frag{}
}

// charClass compiles a class; with ASCII case folding the upper-case
// ranges are left to the folded lower-case ones.
func (c *compiler) charClass(cc *charClass) frag {
	if cc.empty() {
		c.failed = true
		return frag{}
	}
	foldASCII := cc.foldsASCII()
	c.beginRange()
	for _, r := range cc.ranges {
		if foldASCII && 'A' <= r.lo && r.hi <= 'Z' {
			continue
		}
		fold := foldASCII
		if (r.lo <= 'A' && 'z' <= r.hi) || r.hi < 'A' || 'z' < r.lo || ('Z' < r.lo && r.hi < 'a') {
			fold = false
		}
		c.addRuneRange(r.lo, r.hi, fold)
	}
	return c.runeRange
}

// anchorStart is IsAnchorStart: a leading \A (under up to four levels of
// concatenation and capture) is removed and reported.
func anchorStart(re *node, depth int) (*node, bool) {
	if re == nil || depth >= 4 {
		return re, false
	}
	switch re.op {
	case opConcat:
		if len(re.subs) > 0 {
			if sub, ok := anchorStart(re.subs[0], depth+1); ok {
				subs := append([]*node{sub}, re.subs[1:]...)
				return concat(subs, re.flags), true
			}
		}
	case opCapture:
		if sub, ok := anchorStart(re.subs[0], depth+1); ok {
			return &node{op: opCapture, flags: re.flags, subs: []*node{sub}, cap: re.cap}, true
		}
	case opBeginText:
		return newNode(opEmptyMatch, re.flags), true
	}
	return re, false
}

// anchorEnd is IsAnchorEnd, the same for a trailing \z.
func anchorEnd(re *node, depth int) (*node, bool) {
	if re == nil || depth >= 4 {
		return re, false
	}
	switch re.op {
	case opConcat:
		if n := len(re.subs); n > 0 {
			if sub, ok := anchorEnd(re.subs[n-1], depth+1); ok {
				subs := append(append([]*node(nil), re.subs[:n-1]...), sub)
				return concat(subs, re.flags), true
			}
		}
	case opCapture:
		if sub, ok := anchorEnd(re.subs[0], depth+1); ok {
			return &node{op: opCapture, flags: re.flags, subs: []*node{sub}, cap: re.cap}, true
		}
	case opEndText:
		return newNode(opEmptyMatch, re.flags), true
	}
	return re, false
}

// compile is Compiler::Compile for a forward program; it returns the
// instructions and the anchored and unanchored starts.
func compile(re *node, re2v2022 bool) (*prog, error) {
	sre, err := simplify(re, re2v2022)
	if err != nil {
		return nil, err
	}
	sre, anchored := anchorStart(sre, 0)
	sre, _ = anchorEnd(sre, 0)
	c := &compiler{inst: []inst{{op: instFail}}}
	all := c.compileNode(sre)
	if c.failed {
		return nil, errTooLarge
	}
	all = c.cat(all, c.single(inst{op: instMatch}, false))
	p := &prog{start: all.begin}
	if !anchored {
		all = c.cat(c.star(c.byteRange(0x00, 0xff, false), true), all)
	}
	p.startUnanchored = all.begin
	if c.failed {
		return nil, errTooLarge
	}
	if p.start == 0 && p.startUnanchored == 0 {
		c.inst = c.inst[:1]
	}
	p.inst = c.inst
	return p, nil
}
