package model

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/trustgate/trustgate/internal/suggest"
)

// Limits that keep a hostile document from exhausting memory: YAML aliases
// let a few lines expand to billions of nodes ("billion laughs").
const (
	// maxNodes bounds the nodes visited while decoding a file of up to
	// half a million bytes, counting every expansion of an alias; a larger
	// file may have twice as many nodes as bytes (nodeLimit).
	maxNodes = 1_000_000
	// maxDecodeErrors bounds the errors reported for one document.
	maxDecodeErrors = 100
	// maxMergeDepth bounds nested "<<" merge keys (a merge may refer to
	// itself through an anchor).
	maxMergeDepth = 32
)

// decodeErr is an error found while decoding, before the object it belongs
// to is known well enough to name it.
type decodeErr struct {
	path string
	line int
	msg  string
	code string
	// explains is the sibling field an unknown field was probably meant to
	// be (see FieldError.Explains).
	explains string
}

// decoder fills typed structs from a yaml.Node by their json tags, as
// Kubernetes would, recording the line of every field path and collecting
// every unknown field, type mismatch and duplicate key.
type decoder struct {
	lines map[string]int
	// empty are the field paths written as an empty mapping or list ({}
	// or []); validation refuses them where a security setting belongs.
	empty   map[string]bool
	errs    []decodeErr
	nodes   *int // shared by the documents of one file
	limit   int  // the file's nodeLimit
	aborted bool
}

func newDecoder(nodes *int, limit int) *decoder {
	return &decoder{lines: map[string]int{}, empty: map[string]bool{}, nodes: nodes, limit: limit}
}

// errorf records a value of the wrong type.
func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.add(decodeErr{path: path, line: line, msg: fmt.Sprintf(format, args...), code: CodeWrongType})
}

// errorc records an error with its code.
func (d *decoder) errorc(code string, line int, path, format string, args ...any) {
	d.add(decodeErr{path: path, line: line, msg: fmt.Sprintf(format, args...), code: code})
}

func (d *decoder) add(e decodeErr) {
	if len(d.errs) == maxDecodeErrors {
		d.errs = append(d.errs, decodeErr{path: "", line: e.line, msg: "too many errors; giving up on this document", code: CodeTooLarge})
		d.aborted = true
	}
	if d.aborted {
		return
	}
	d.errs = append(d.errs, e)
}

// nodeLimit bounds the nodes of a text of size bytes: maxNodes, or twice
// the size. Without aliases YAML has at most about one node per byte ("{a,b}"
// is a mapping, two keys and two null values in five bytes), so the bound
// stops aliases, not size: a 10,000-host configuration in one file has more
// than a million nodes. With it no alias makes a file cost more than one of
// twice its size without aliases.
func nodeLimit(size int) int { return max(maxNodes, 2*size) }

// count counts a visited node and aborts past the limit.
func (d *decoder) count(n *yaml.Node, path string) bool {
	if d.aborted {
		return false
	}
	*d.nodes++
	if *d.nodes > d.limit {
		d.errorc(CodeTooLarge, n.Line, path, "file expands to more than %d nodes (recursive YAML aliases?); giving up", d.limit)
		d.aborted = true
		return false
	}
	return true
}

// deref follows aliases to the anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			return strconv.Quote(n.Value)
		}
		return n.Value
	}
	return "an unexpected YAML node"
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// nullAllowed are the fields whose null is a value tools write, not a file
// cut short: kubectl's `create --dry-run=client -o yaml` writes
// `creationTimestamp: null`.
var nullAllowed = map[string]bool{"metadata.creationTimestamp": true}

// decode fills v from n; path is v's field path ("spec.servers[0]").
//
// A null value ("key:" with nothing after it, "~", "null", or a list item
// "-" alone) is an error, where JSON and Kubernetes would leave the zero
// value: a file cut short right after a key reads exactly this way, and
// the zero value of a security setting is "no check" (authorization.allow
// with no rules would let every certificate in). Leaving the key out says
// "not set".
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = deref(n)
	if n == nil || !d.count(n, path) {
		return
	}
	if isNull(n) {
		if nullAllowed[path] {
			return
		}
		line, ok := d.lines[path]
		if !ok {
			line = n.Line
		}
		d.errorf(line, path, "no value (null); give it one or remove the key (a file cut short after a key reads this way)")
		return
	}
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && len(n.Content) == 0 {
		d.empty[path] = true
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		d.decodeString(n, v, path)
	case reflect.Bool:
		d.decodeBool(n, v, path)
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint32, reflect.Uint64:
		d.decodeInt(n, v, path)
	case reflect.Float64:
		d.decodeFloat(n, v, path)
	default:
		// Only reachable if a model type gains an unsupported field type.
		d.errorf(n.Line, path, "internal error: cannot decode into %s", v.Type())
	}
}

func (d *decoder) decodeString(n *yaml.Node, v reflect.Value, path string) {
	switch {
	case n.Kind != yaml.ScalarNode:
		d.errorf(n.Line, path, "expected a string, got %s", describe(n))
	case n.ShortTag() == "!!str", n.ShortTag() == "!!timestamp", n.ShortTag() == "!!binary":
		v.SetString(n.Value)
	default:
		// Kubernetes rejects a number or boolean where a string belongs;
		// say how to fix it rather than converting silently.
		d.errorf(n.Line, path, "expected a string, got %s (quote it: %q)", n.Value, n.Value)
	}
}

func (d *decoder) decodeBool(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode {
		// YAML 1.1 spellings (yes/no/on/off) are what kubectl accepts.
		switch strings.ToLower(n.Value) {
		case "true", "yes", "y", "on":
			v.SetBool(true)
			return
		case "false", "no", "n", "off":
			v.SetBool(false)
			return
		}
	}
	d.errorf(n.Line, path, "expected true or false, got %s", describe(n))
}

func (d *decoder) decodeInt(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			d.errorf(n.Line, path, "expected an integer, got %s", n.Value)
			return
		}
		d.errorf(n.Line, path, "expected a number, got %s", describe(n))
		return
	}
	var i int64
	if err := n.Decode(&i); err != nil {
		d.errorf(n.Line, path, "expected a number, got %s (%v)", n.Value, err)
		return
	}
	var lo, hi int64
	switch v.Kind() {
	case reflect.Int32:
		lo, hi = math.MinInt32, math.MaxInt32
	case reflect.Uint32:
		lo, hi = 0, math.MaxUint32
	case reflect.Uint64:
		lo, hi = 0, math.MaxInt64
	default:
		lo, hi = math.MinInt64, math.MaxInt64
	}
	if i < lo || i > hi {
		d.errorf(n.Line, path, "expected a number between %d and %d, got %s", lo, hi, n.Value)
		return
	}
	if v.CanUint() {
		v.SetUint(uint64(i))
	} else {
		v.SetInt(i)
	}
}

// decodeFloat reads a number (Istio's DoubleValue fields), an integer too.
func (d *decoder) decodeFloat(n *yaml.Node, v reflect.Value, path string) {
	var f float64
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") || n.Decode(&f) != nil ||
		math.IsNaN(f) || math.IsInf(f, 0) {
		d.errorf(n.Line, path, "expected a number, got %s", describe(n))
		return
	}
	v.SetFloat(f)
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "expected a list, got %s", describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = item.Line
		d.decode(item, out.Index(i), p)
	}
	v.Set(out)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "expected a mapping, got %s", describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for _, kv := range d.pairs(n, path, 0) {
		p := joinPath(path, kv.key)
		d.lines[p] = kv.line
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(kv.val, elem, p)
		v.SetMapIndex(reflect.ValueOf(kv.key).Convert(v.Type().Key()), elem)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "expected a mapping, got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	for _, kv := range d.pairs(n, path, 0) {
		p := joinPath(path, kv.key)
		idx, ok := fields[kv.key]
		if !ok {
			if !ignoredField(v.Type(), path, kv.key) {
				d.add(unknownField(v.Type(), kv, path, fields))
			}
			continue
		}
		d.lines[p] = kv.line
		d.decode(kv.val, v.FieldByIndex(idx), p)
	}
}

// pair is one mapping entry after merge keys are expanded.
type pair struct {
	key  string
	line int
	val  *yaml.Node
}

// pairs lists a mapping's entries: explicit keys (a repeated one is an
// error), then entries merged in with "<<" that no explicit key overrides.
func (d *decoder) pairs(n *yaml.Node, path string, depth int) []pair {
	var out, merged []pair
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k == nil || !d.count(k, path) {
			return out
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(val, path, depth)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "mapping keys must be strings, got %s", describe(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			d.errorc(CodeDuplicateKey, n.Content[i].Line, joinPath(path, k.Value), "duplicate key %q (first at line %d)", k.Value, line)
			continue
		}
		first[k.Value] = n.Content[i].Line
		out = append(out, pair{key: k.Value, line: n.Content[i].Line, val: val})
	}
	for _, m := range merged {
		if _, ok := first[m.key]; !ok {
			first[m.key] = m.line
			out = append(out, m)
		}
	}
	return out
}

// merge expands the value of a "<<" key: a mapping or a list of mappings,
// earlier ones taking precedence.
func (d *decoder) merge(val *yaml.Node, path string, depth int) []pair {
	val = deref(val)
	if val == nil {
		return nil
	}
	if depth >= maxMergeDepth {
		d.errorc(CodeTooLarge, val.Line, path, "merge keys (<<) nested more than %d deep", maxMergeDepth)
		return nil
	}
	switch val.Kind {
	case yaml.MappingNode:
		return d.pairs(val, path, depth+1)
	case yaml.SequenceNode:
		var out []pair
		seen := map[string]bool{}
		for _, item := range val.Content {
			item = deref(item)
			if item == nil || item.Kind != yaml.MappingNode {
				d.errorf(val.Line, path, "merge key (<<) needs a mapping or a list of mappings")
				return out
			}
			for _, kv := range d.pairs(item, path, depth+1) {
				if !seen[kv.key] {
					seen[kv.key] = true
					out = append(out, kv)
				}
			}
		}
		return out
	}
	d.errorf(val.Line, path, "merge key (<<) needs a mapping or a list of mappings, got %s", describe(val))
	return nil
}

// fieldCache maps a struct type to its fields by json name, embedded
// (",inline" or anonymous) structs flattened.
var fieldCache sync.Map // reflect.Type -> map[string][]int

func fieldsOf(t reflect.Type) map[string][]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string][]int)
	}
	m := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct {
			for k, idx := range fieldsOf(f.Type) {
				m[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = []int{i}
	}
	fieldCache.Store(t, m)
	return m
}

var (
	objectMetaType = reflect.TypeFor[ObjectMeta]()
	// ignoredMeta are standard Kubernetes ObjectMeta fields that trustgate
	// accepts (so `kubectl get -o yaml` output loads) and ignores.
	ignoredMeta = map[string]bool{
		"uid": true, "resourceVersion": true, "generation": true,
		"managedFields": true, "ownerReferences": true,
		"finalizers": true, "generateName": true, "deletionTimestamp": true,
		"deletionGracePeriodSeconds": true, "selfLink": true,
	}
)

// ignoredField reports whether an unknown key is accepted silently: the
// ObjectMeta fields above, and a top-level status.
func ignoredField(t reflect.Type, path, key string) bool {
	if t == objectMetaType {
		return ignoredMeta[key]
	}
	return path == "" && key == "status"
}

// unknownField says why a key is not accepted: an Istio field trustgate
// does not implement, a likely typo of a field (the closest name by edit
// distance, ignoring case), or an unknown field.
func unknownField(t reflect.Type, kv pair, path string, fields map[string][]int) decodeErr {
	e := decodeErr{path: joinPath(path, kv.key), line: kv.line, code: CodeUnknownField}
	if why, ok := unsupportedFields[t.Name()][kv.key]; ok {
		e.code, e.msg = CodeUnsupportedField, fmt.Sprintf("field %q is not supported by trustgate", kv.key)
		if why != "" {
			e.msg += ": " + why
		}
		return e
	}
	e.msg = fmt.Sprintf("unknown field %q", kv.key)
	if name := closestField(kv.key, fields); name != "" {
		e.msg += fmt.Sprintf(" (did you mean %q?)", name)
		e.explains = joinPath(path, name)
	}
	return e
}

// closestField is the field name key was most likely meant to be: the same
// name in other case, else the nearest by edit distance within a third of
// its length (at least 2), ties going to the first in sorted order; "" if
// none is that near.
func closestField(key string, fields map[string][]int) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.EqualFold(name, key) {
			return name
		}
	}
	// suggest.Closest compares case-sensitively; the distance of the
	// lower-cased names gives the same ties, in the names' sorted order.
	limit := max(2, len(key)/3)
	best, bestD := "", limit+1
	for _, name := range names {
		if d := suggest.Distance(strings.ToLower(key), strings.ToLower(name)); d < bestD {
			best, bestD = name, d
		}
	}
	return best
}
