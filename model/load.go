package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/trustgate/trustgate/internal/regularfile"
)

// Load reads every object from opts.Paths and opts.SecretsDirs, with the
// line of every field, and reads the files Istio's file fields name. It
// returns all errors as one *ErrorList; the Config holds whatever decoded
// and is returned even then, so a caller may still report Validate's
// findings.
func Load(opts LoadOptions) (*Config, error) { return load(opts, nil) }

func load(opts LoadOptions, cache *Cache) (*Config, error) {
	l := &loader{cache: cache, cfg: &Config{Files: map[string][]byte{}, materials: new(sync.Map), secretIdx: newSecretIndex(), SecretsDirs: opts.SecretsDirs, ShortNames: opts.ShortNames, ClusterDomain: opts.ClusterDomain}}
	files := l.collect(opts.Paths)
	for _, f := range files {
		l.loadFile(f)
	}
	for _, dir := range opts.SecretsDirs {
		l.loadSecretsDir(dir)
	}
	l.checkSecretData()
	l.readFileFields()
	l.readMesh()
	return l.cfg, l.errs.Err()
}

// loader is the state of one Load.
type loader struct {
	cfg  *Config
	errs Errors
	// nodes counts the YAML nodes decoded from the current file, against
	// limit, its nodeLimit.
	nodes, limit int
	// docs counts the documents of the current file; syntaxErrs its YAML
	// syntax errors; skip is how many documents loadDocumentsParallel
	// loaded.
	docs, syntaxErrs, skip int
	// noPositions drops lines: documents from the API (LoadDocuments) have
	// no file whose lines would mean anything to the user.
	noPositions bool
	// cache holds documents decoded by earlier loads (LoadWith); nil:
	// none.
	cache *Cache
}

// fileErr records an error about a whole file or directory.
func (l *loader) fileErr(file string, line int, format string, args ...any) {
	l.errs.Add(&FieldError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// kinds maps apiVersion and kind to a constructor of the typed object.
var kinds = map[string]map[string]func() object{
	"networking.istio.io/v1":       networkingKinds,
	"networking.istio.io/v1beta1":  networkingKinds,
	"networking.istio.io/v1alpha3": networkingKinds,
	"security.istio.io/v1":         securityKinds,
	"security.istio.io/v1beta1":    securityKinds,
	"v1":                           {"Secret": func() object { return &Secret{} }, "ConfigMap": func() object { return &ConfigMap{} }},
	TrustgateAPIVersion:            {"ClientCertificatePolicy": func() object { return &ClientCertificatePolicy{} }},
}

var networkingKinds = map[string]func() object{
	"Gateway":         func() object { return &Gateway{} },
	"VirtualService":  func() object { return &VirtualService{} },
	"DestinationRule": func() object { return &DestinationRule{} },
	"ServiceEntry":    func() object { return &ServiceEntry{} },
}

var securityKinds = map[string]func() object{
	"AuthorizationPolicy": func() object { return &AuthorizationPolicy{} },
}

// object is what every kind implements through its embedded Object.
type object interface{ Meta() *Object }

// add appends a decoded object to its list in the Config.
func (c *Config) add(o object) {
	switch o := o.(type) {
	case *Gateway:
		c.Gateways = append(c.Gateways, o)
	case *VirtualService:
		c.VirtualServices = append(c.VirtualServices, o)
	case *DestinationRule:
		c.DestinationRules = append(c.DestinationRules, o)
	case *ServiceEntry:
		c.ServiceEntries = append(c.ServiceEntries, o)
	case *AuthorizationPolicy:
		c.AuthorizationPolicies = append(c.AuthorizationPolicies, o)
	case *ClientCertificatePolicy:
		c.ClientCertificatePolicies = append(c.ClientCertificatePolicies, o)
	case *Secret:
		c.Secrets = append(c.Secrets, o)
	case *ConfigMap:
		c.ConfigMaps = append(c.ConfigMaps, o)
	}
}

// yamlLineErr matches goyaml's "yaml: line 12: message".
var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// loadFile decodes every document of one file. A file with no object at
// all (empty, blank or only comments) and an empty or null document are
// errors, not "nothing": that is what an interrupted copy, an editor's
// non-atomic save or a file cut short right after a "---" looks like, and
// loading it as such would take every object of the file away from the
// proxies.
func (l *loader) loadFile(file string) {
	data, err := regularfile.Read(file, maxConfigFileSize)
	if err != nil {
		l.errs.Add(&FieldError{File: file, Msg: err.Error(), Code: CodeFileUnreadable})
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		l.fileErr(file, 0, "the file is empty%s; a half-written file reads this way, so it is refused. To remove its objects, delete the file", blankNote(data))
		return
	}
	l.nodes, l.limit, l.docs, l.syntaxErrs = 0, nodeLimit(len(data)), 0, 0
	if l.cache != nil && l.loadFileCached(file, data) {
		return
	}
	// Large files parse on every core first; skip counts the documents
	// that path loaded, which the sequential parser below passes over
	// (-1: it loaded all of them).
	l.skip = l.loadDocumentsParallel(file, data)
	if l.skip < 0 {
		return
	}
	offset := 0
	for data != nil {
		if l.syntaxErrs == maxSyntaxErrors {
			l.errs.Add(&FieldError{File: file, Line: offset + 1, Msg: "too many YAML syntax errors; giving up on the rest of the file", Code: CodeTooLarge})
			return
		}
		data, offset = l.loadDocuments(file, data, offset)
	}
	if l.docs == 0 && l.syntaxErrs == 0 {
		l.fileErr(file, 0, "the file holds only comments, no object; a half-written file reads this way, so it is refused. To remove its objects, delete the file")
	}
}

// loadDocuments decodes the documents of data, which starts after line
// offset of the file. After a syntax error it returns where decoding can
// go on (see syntaxError), else nil.
func (l *loader) loadDocuments(file string, data []byte, offset int) (rest []byte, restOffset int) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for l.nodes <= l.limit {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil, 0
		}
		if err != nil {
			return l.syntaxError(file, data, offset, err)
		}
		l.docs++
		if l.docs <= l.skip {
			continue // loaded by loadDocumentsParallel
		}
		shiftLines(&doc, offset)
		l.loadDocument(file, &doc, l.docs)
	}
	return nil, 0
}

// loadDocument loads the n-th document of a file.
func (l *loader) loadDocument(file string, doc *yaml.Node, n int) {
	if len(doc.Content) == 0 {
		return // not produced by the decoder for a file with content
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		l.fileErr(file, doc.Content[0].Line, "document %d is empty (null); a file cut short after \"---\" reads this way, so it is refused. Remove the extra \"---\" separator", n)
		return
	}
	l.loadObject(file, root, false)
}

// blankNote says what an empty file holds, if anything.
func blankNote(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d bytes of white space)", len(data))
}

// loadObject decodes one document (or one item of a List).
func (l *loader) loadObject(file string, root *yaml.Node, inList bool) {
	if root.Kind != yaml.MappingNode {
		l.fileErr(file, root.Line, "expected a Kubernetes object (a mapping with apiVersion and kind), got %s", describe(root))
		return
	}
	head := peek(root)
	switch {
	case head.apiVersion == "":
		l.fileErr(file, root.Line, "%s: apiVersion is missing", head.ref())
		return
	case head.kind == "":
		l.fileErr(file, root.Line, "%s: kind is missing", head.ref())
		return
	case head.apiVersion == "v1" && head.kind == "List":
		if inList {
			l.fileErr(file, root.Line, "%s: a List inside a List is not supported", head.ref())
			return
		}
		l.loadList(file, root)
		return
	}
	ctor, ok := kinds[head.apiVersion][head.kind]
	if !ok {
		l.errs.Add(&FieldError{File: file, Line: head.kindLine, Object: head.ref(), Path: "kind", Msg: unknownKindMsg(head.apiVersion, head.kind), Code: CodeUnknownKind})
		return
	}
	obj, d := decodeObject(file, root, ctor, &l.nodes, l.limit)
	meta := obj.Meta()
	if l.noPositions {
		meta.Pos = Position{Empty: d.empty}
	}
	for _, e := range d.errs {
		line := e.line
		if l.noPositions {
			line = 0
		}
		l.errs.Add(&FieldError{File: file, Line: line, Object: meta.Ref(), Path: e.path, Msg: e.msg, Code: e.code, Explains: e.explains})
	}
	l.cfg.add(obj)
}

// decodeObject decodes root into a new object of ctor's type, counting its
// nodes in *nodes: the namespace defaults to "default" and the position is
// root's in file. The decoder holds the lines and findings.
func decodeObject(file string, root *yaml.Node, ctor func() object, nodes *int, limit int) (object, *decoder) {
	obj := ctor()
	d := newDecoder(nodes, limit)
	d.decode(root, reflect.ValueOf(obj).Elem(), "")
	meta := obj.Meta()
	if meta.Metadata.Namespace == "" {
		meta.Metadata.Namespace = "default"
	}
	meta.Pos = Position{File: file, Line: root.Line, Lines: d.lines, Empty: d.empty}
	return obj, d
}

// loadList decodes the items of a v1 List (kubectl get -o yaml).
func (l *loader) loadList(file string, root *yaml.Node) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "items" {
			continue
		}
		items := deref(root.Content[i+1])
		if isNull(items) {
			return
		}
		if items.Kind != yaml.SequenceNode {
			l.fileErr(file, items.Line, "List: items: expected a list, got %s", describe(items))
			return
		}
		for _, item := range items.Content {
			if l.nodes > l.limit {
				return // reported by the decoder that crossed the limit
			}
			if item = deref(item); !isNull(item) {
				l.loadObject(file, item, true)
			}
		}
		return
	}
}

// head is what is read from a document before choosing its type.
type head struct {
	apiVersion, kind, name, namespace string
	kindLine                          int
}

func (h head) ref() string {
	ns := h.namespace
	if ns == "" {
		ns = "default"
	}
	k := h.kind
	if k == "" {
		k = "object"
	}
	return fmt.Sprintf("%s %s/%s", k, ns, h.name)
}

// peek reads apiVersion, kind and metadata name and namespace, if they are
// plain strings, without reporting anything: decoding reports the rest.
func peek(root *yaml.Node) head {
	h := head{kindLine: root.Line}
	scalar := func(n *yaml.Node) string {
		if n = deref(n); n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
			return n.Value
		}
		return ""
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "apiVersion":
			h.apiVersion = scalar(v)
		case "kind":
			h.kind, h.kindLine = scalar(v), k.Line
		case "metadata":
			if m := deref(v); m != nil && m.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(m.Content); j += 2 {
					switch m.Content[j].Value {
					case "name":
						h.name = scalar(m.Content[j+1])
					case "namespace":
						h.namespace = scalar(m.Content[j+1])
					}
				}
			}
		}
	}
	return h
}

// unknownKindMsg names what trustgate reads instead.
func unknownKindMsg(apiVersion, kind string) string {
	known, ok := kinds[apiVersion]
	if !ok {
		var groups []string
		for g := range kinds {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		return fmt.Sprintf("apiVersion %q (kind %s) is not supported; trustgate reads %s", apiVersion, kind, strings.Join(groups, ", "))
	}
	var names []string
	for k := range known {
		names = append(names, k)
	}
	if apiVersion == "v1" {
		names = append(names, "List")
	}
	sort.Strings(names)
	return fmt.Sprintf("kind %q is not supported in %s; trustgate reads %s", kind, apiVersion, strings.Join(names, ", "))
}
