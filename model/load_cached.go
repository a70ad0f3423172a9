package model

import (
	"crypto/sha256"
	"maps"
	"reflect"
	"runtime"

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
}

// loadFileCached loads a file's documents from the cache, parsing and
// decoding only those it does not hold. It declines (false, having loaded
// nothing) a file that anything but plain objects of the kept kinds could
// make read differently: what splitDocuments declines, a document of only
// comments past the first, a document that is not one object of a kept
// kind (a List, a ConfigMap, an unknown kind, a syntax error), or more than
// maxNodes nodes. The uncached path then loads the file, with its own
// messages.
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
		}
	}
	if !l.decodeMisses(file, data, slots, miss) {
		return false
	}
	nodes := 0
	for _, s := range slots {
		nodes += s.entry.nodes
	}
	if nodes > maxNodes {
		return false
	}
	for _, s := range slots {
		l.apply(file, s.entry, s.p.line-1)
	}
	l.nodes += nodes
	for _, i := range miss {
		l.cache.put(slots[i].key, slots[i].entry)
	}
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
			e := decodeKept(file, doc, slots[owner[i][j]].p.line-1)
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
func decodeKept(file string, doc *yaml.Node, base int) *docEntry {
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
	obj, d := decodeObject(file, root, ctor, &nodes)
	return &docEntry{obj: obj, line: root.Line, lines: d.lines, empty: d.empty, errs: d.errs, nodes: nodes, base: base, file: file}
}

// apply adds a decoded document, at line offset base of file, to the
// Config: the cached object itself where it was decoded, else a copy with
// its positions moved, and the decoder's findings at their lines.
func (l *loader) apply(file string, e *docEntry, base int) {
	delta := base - e.base
	obj := e.obj
	if delta != 0 || file != e.file {
		obj = rebased(e, file, delta)
	}
	meta := obj.Meta()
	for _, de := range e.errs {
		line := de.line
		if line > 0 {
			line += delta
		}
		l.errs.Add(&FieldError{File: file, Line: line, Object: meta.Ref(), Path: de.path, Msg: de.msg, Code: de.code, Explains: de.explains})
	}
	l.cfg.add(obj)
}

// rebased is a shallow copy of e's object, in file, delta lines further
// down: the spec is shared (nothing modifies a loaded object), the position
// is its own.
func rebased(e *docEntry, file string, delta int) object {
	v := reflect.New(reflect.TypeOf(e.obj).Elem())
	v.Elem().Set(reflect.ValueOf(e.obj).Elem())
	obj := v.Interface().(object)
	lines := maps.Clone(e.lines)
	for p := range lines {
		lines[p] += delta
	}
	obj.Meta().Pos = Position{File: file, Line: e.line + delta, Lines: lines, Empty: e.empty}
	return obj
}
