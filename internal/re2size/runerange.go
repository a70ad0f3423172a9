package re2size

// Rune ranges compiled to UTF-8 byte ranges (re2/compile.cc,
// AddRuneRangeUTF8 and the suffix cache), forward direction only: common
// suffixes are shared through the cache, common leading bytes merged into
// a trie by addSuffixRecursive.

func (c *compiler) beginRange() {
	c.runeCache = map[uint64]uint32{}
	c.runeRange = frag{}
}

func (c *compiler) uncachedSuffix(lo, hi uint8, fold bool, next uint32) uint32 {
	f := c.byteRange(lo, hi, fold)
	if next != 0 {
		c.patch(f.end, next)
	} else {
		c.runeRange.end = c.appendList(c.runeRange.end, f.end)
	}
	return f.begin
}

func cacheKey(lo, hi uint8, fold bool, next uint32) uint64 {
	k := uint64(next)<<17 | uint64(lo)<<9 | uint64(hi)<<1
	if fold {
		k |= 1
	}
	return k
}

func (c *compiler) cachedSuffix(lo, hi uint8, fold bool, next uint32) uint32 {
	key := cacheKey(lo, hi, fold, next)
	if id, ok := c.runeCache[key]; ok {
		return id
	}
	id := c.uncachedSuffix(lo, hi, fold, next)
	c.runeCache[key] = id
	return id
}

func (c *compiler) isCachedSuffix(id uint32) bool {
	in := c.inst[id]
	_, ok := c.runeCache[cacheKey(in.lo, in.hi, in.foldcase, in.out)]
	return ok
}

func (c *compiler) addSuffix(id uint32) {
	if c.failed {
		return
	}
	if c.runeRange.begin == 0 {
		c.runeRange.begin = id
		return
	}
	c.runeRange.begin = c.addSuffixRecursive(c.runeRange.begin, id)
}

// addSuffixRecursive merges the byte sequence starting at id into the trie
// at root, sharing equal leading byte ranges.
func (c *compiler) addSuffixRecursive(root, id uint32) uint32 {
	f := c.findByteRange(root, id)
	if f.begin == 0 {
		alt, ok := c.alloc(1)
		if !ok {
			return 0
		}
		c.inst[alt] = inst{op: instAlt, out: root, out1: id}
		return alt
	}
	var br uint32
	switch {
	case f.end.head == 0:
		br = root
	case f.end.head&1 != 0:
		br = c.inst[f.begin].out1
	default:
		br = c.inst[f.begin].out
	}
	if c.isCachedSuffix(br) {
		// The matched range is shared: clone it before changing its out.
		byterange, ok := c.alloc(1)
		if !ok {
			return 0
		}
		old := c.inst[br]
		c.inst[byterange] = inst{op: instByteRange, lo: old.lo, hi: old.hi, foldcase: old.foldcase, out: old.out}
		br = byterange
		switch {
		case f.end.head == 0:
			root = br
		case f.end.head&1 != 0:
			c.inst[f.begin].out1 = br
		default:
			c.inst[f.begin].out = br
		}
	}
	out := c.inst[id].out
	if !c.isCachedSuffix(id) {
		// id was the last instruction allocated: free it.
		c.inst = c.inst[:len(c.inst)-1]
	}
	out = c.addSuffixRecursive(c.inst[br].out, out)
	if out == 0 {
		return 0
	}
	c.inst[br].out = out
	return root
}

func (c *compiler) byteRangeEqual(id1, id2 uint32) bool {
	a, b := c.inst[id1], c.inst[id2]
	return a.lo == b.lo && a.hi == b.hi && a.foldcase == b.foldcase
}

// findByteRange looks for id's byte range at the top of root (forward
// direction: only the root or the Alt's second branch).
func (c *compiler) findByteRange(root, id uint32) frag {
	if c.inst[root].op == instByteRange {
		if c.byteRangeEqual(root, id) {
			return frag{begin: root}
		}
		return frag{}
	}
	if c.inst[root].op == instAlt && c.byteRangeEqual(c.inst[root].out1, id) {
		return frag{begin: root, end: mk(root<<1 | 1)}
	}
	return frag{}
}

// maxRuneOfLen is MaxRune: the largest rune of an n-byte UTF-8 sequence.
func maxRuneOfLen(n int) rune {
	b := 7
	if n > 1 {
		b = 8 - (n + 1) + 6*(n-1)
	}
	return 1<<b - 1
}

// encodeRune is RE2's runetochar, which, unlike Go's, encodes surrogates.
func encodeRune(r rune) []byte {
	switch {
	case r < 0x80:
		return []byte{byte(r)}
	case r < 0x800:
		return []byte{0xC0 | byte(r>>6), 0x80 | byte(r)&0x3F}
	case r < 0x10000:
		return []byte{0xE0 | byte(r>>12), 0x80 | byte(r>>6)&0x3F, 0x80 | byte(r)&0x3F}
	}
	return []byte{0xF0 | byte(r>>18), 0x80 | byte(r>>12)&0x3F, 0x80 | byte(r>>6)&0x3F, 0x80 | byte(r)&0x3F}
}

func (c *compiler) add80to10FFFF() {
	cont1 := c.uncachedSuffix(0x80, 0xBF, false, 0)
	c.addSuffix(c.uncachedSuffix(0xC2, 0xDF, false, cont1))
	cont2 := c.uncachedSuffix(0x80, 0xBF, false, cont1)
	c.addSuffix(c.uncachedSuffix(0xE0, 0xEF, false, cont2))
	cont3 := c.uncachedSuffix(0x80, 0xBF, false, cont2)
	c.addSuffix(c.uncachedSuffix(0xF0, 0xF4, false, cont3))
}

// addRuneRange is AddRuneRangeUTF8: it splits lo-hi until both ends have
// the same length and differ only in their last bytes' full ranges.
func (c *compiler) addRuneRange(lo, hi rune, fold bool) {
	if lo > hi {
		return
	}
	if lo == 0x80 && hi == 0x10ffff {
		c.add80to10FFFF()
		return
	}
	for i := 1; i < 4; i++ {
		if m := maxRuneOfLen(i); lo <= m && m < hi {
			c.addRuneRange(lo, m, fold)
			c.addRuneRange(m+1, hi, fold)
			return
		}
	}
	if hi < 0x80 {
		c.addSuffix(c.uncachedSuffix(uint8(lo), uint8(hi), fold, 0))
		return
	}
	for i := 1; i < 4; i++ {
		m := rune(1)<<(6*i) - 1
		if lo&^m != hi&^m {
			if lo&m != 0 {
				c.addRuneRange(lo, lo|m, fold)
				c.addRuneRange((lo|m)+1, hi, fold)
				return
			}
			if hi&m != m {
				c.addRuneRange(lo, (hi&^m)-1, fold)
				c.addRuneRange(hi&^m, hi, fold)
				return
			}
		}
	}
	ulo, uhi := encodeRune(lo), encodeRune(hi)
	n := len(ulo)
	var id uint32
	for i := n - 1; i >= 0; i-- {
		if i == n-1 || (ulo[i] < uhi[i] && i != 0) {
			id = c.cachedSuffix(ulo[i], uhi[i], false, id)
		} else {
			id = c.uncachedSuffix(ulo[i], uhi[i], false, id)
		}
	}
	c.addSuffix(id)
}
