package model

import (
	"crypto/sha256"
	"maps"
	"reflect"
	"runtime"
	"slices"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// LoadWith is Load taking every document whose text it has seen from c
// (see Cache), and keeping the others there; nil c is Load. The Config and
// errors are the same as Load's.
func LoadWith(opts LoadOptions, c *Cache) (*Config, error) { return load(opts, c) }

// docSlot is one document of a file on the cached path.
type docSlot struct {
	p     piece
	key   [sha256.Size]byte
	entry *docEntry
	miss  bool // decoded by this load
}

// loadFileCached loads a file's documents from the cache, parsing and
// decoding only those it does not hold. It declines (false, having loaded
// nothing) a file that anything but plain objects of the kept kinds could
// make read differently: what splitDocuments declines, a document of only
// comments past the first, a document that is not one object of a kept
// kind (a List, a ConfigMap, an unknown kind, a syntax error), or more
// nodes than its nodeLimit. The uncached path then loads the file, with its
// own messages.
func (l *loader) loadFileCached(file string, data []byte) bool {
	pieces, ok := splitDocuments(data)
	if !ok {
		return false
	}
	var slots []docSlot
	for i, p := range pieces {
		text := data[p.start:p.end]
		if !hasContent(text) {
			if i == 0 {
				continue // comments before the first separator
			}
			return false
		}
		slots = append(slots, docSlot{p: p, key: sha256.Sum256(text)})
	}
	if len(slots) == 0 {
		return false
	}
	var miss []int
	for i := range slots {
		if slots[i].entry = l.cache.get(slots[i].key); slots[i].entry == nil {
			miss = append(miss, i)
			slots[i].miss = true
		}
	}
	if !l.decodeMisses(file, data, slots, miss) {
		return false
	}
	nodes := 0
	for _, s := range slots {
		nodes += s.entry.nodes
	}
	// A document that hit the limit has counted past it: the file is over
	// it too. One from the cache was complete, decoded under any limit.
	if nodes > l.limit {
		return false
	}
	for _, s := range slots {
		if e := l.apply(file, s.entry, s.p.line-1); e != s.entry || s.miss {
			l.cache.put(s.key, e)
		}
	}
	l.nodes += nodes
	return true
}

// decodeMisses parses the documents at slots[miss], consecutive ones
// together in chunks of about chunkBytes on every core, and decodes each
// into its slot's entry. It fails when a chunk does not parse into its
// documents or a document is not one object of a kept kind.
func (l *loader) decodeMisses(file string, data []byte, slots []docSlot, miss []int) bool {
	var cs []chunk
	var owner [][]int // the slots of each chunk
	for j := 0; j < len(miss); {
		k := j + 1
		for k < len(miss) && miss[k] == miss[k-1]+1 && slots[miss[k]].p.end-slots[miss[j]].p.start < chunkBytes {
			k++
		}
		first, last := slots[miss[j]].p, slots[miss[k-1]].p
		cs = append(cs, chunk{data: data[first.start:last.end], line: first.line, docs: k - j})
		owner = append(owner, miss[j:k])
		j = k
	}
	if len(cs) == 0 {
		return true
	}
	get, stop := parseOrdered(cs, max(1, min(runtime.GOMAXPROCS(0), len(cs))))
	defer stop()
	for i, c := range cs {
		r := get(i)
		if r.err != nil || len(r.docs) != c.docs {
			return false
		}
		for j, doc := range r.docs {
			e := decodeKept(file, doc, slots[owner[i][j]].p.line-1, l.limit)
			if e == nil {
				return false
			}
			slots[owner[i][j]].entry = e
		}
	}
	return true
}

// decodeKept decodes a document holding one object of a kind the cache
// keeps; nil for any other document.
func decodeKept(file string, doc *yaml.Node, base, limit int) *docEntry {
	if len(doc.Content) == 0 {
		return nil
	}
	root := deref(doc.Content[0])
	if isNull(root) || root.Kind != yaml.MappingNode {
		return nil
	}
	head := peek(root)
	if head.apiVersion == "" || head.kind == "" || head.kind == "ConfigMap" {
		return nil
	}
	ctor, ok := kinds[head.apiVersion][head.kind]
	if !ok {
		return nil
	}
	nodes := 0
	obj, d := decodeObject(file, root, ctor, &nodes, limit)
	return &docEntry{obj: obj, line: root.Line, lines: d.lines, empty: d.empty, errs: d.errs, nodes: nodes, base: base, file: file}
}

// apply adds a decoded document, at line offset base of file, to the
// Config: the cached object itself where it was decoded, else a copy with
// its positions moved, and the decoder's findings at their lines. It returns
// the entry as it sits now, for the cache to keep in place of e: a document
// that moved once (lines inserted above it) is copied at that load only, not
// at every load after it.
func (l *loader) apply(file string, e *docEntry, base int) *docEntry {
	if base != e.base || file != e.file {
		e = rebased(e, file, base)
	}
	meta := e.obj.Meta()
	for _, de := range e.errs {
		l.errs.Add(&FieldError{File: file, Line: de.line, Object: meta.Ref(), Path: de.path, Msg: de.msg, Code: de.code, Explains: de.explains})
	}
	l.cfg.add(e.obj)
	return e
}

// rebased is e moved to line offset base of file: a shallow copy of its
// object (the spec is shared: nothing modifies a loaded object) with its own
// position, and the findings' lines moved the same (0, no line, stays).
func rebased(e *docEntry, file string, base int) *docEntry {
	delta := base - e.base
	v := reflect.New(reflect.TypeOf(e.obj).Elem())
	v.Elem().Set(reflect.ValueOf(e.obj).Elem())
	obj := v.Interface().(object)
	lines := maps.Clone(e.lines)
	for p := range lines {
		lines[p] += delta
	}
	errs := slices.Clone(e.errs)
	for i := range errs {
		if errs[i].line > 0 {
			errs[i].line += delta
		}
	}
	obj.Meta().Pos = Position{File: file, Line: e.line + delta, Lines: lines, Empty: e.empty}
	return &docEntry{obj: obj, line: e.line + delta, lines: lines, empty: e.empty, errs: errs, nodes: e.nodes, base: base, file: file}
}
