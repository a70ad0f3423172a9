package certcheck_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/model"
)

// x509Terms are the camelCase words of RFC 5280 and openssl that fix texts
// and certcheck messages use; they name certificate fields, not trustgate's.
var x509Terms = map[string]bool{
	"nextUpdate": true, "thisUpdate": true, "keyUsage": true, "keyCertSign": true, "cRLSign": true,
	"digitalSignature": true, "keyEncipherment": true, "extendedKeyUsage": true, "serverAuth": true,
	"clientAuth": true, "basicConstraints": true, "subjectAltName": true, "notBefore": true, "notAfter": true,
}

// The kinds whose fields fix texts may name, by the name users write.
var kinds = map[string]reflect.Type{
	"Gateway":                 reflect.TypeFor[model.Gateway](),
	"VirtualService":          reflect.TypeFor[model.VirtualService](),
	"DestinationRule":         reflect.TypeFor[model.DestinationRule](),
	"ServiceEntry":            reflect.TypeFor[model.ServiceEntry](),
	"AuthorizationPolicy":     reflect.TypeFor[model.AuthorizationPolicy](),
	"ClientCertificatePolicy": reflect.TypeFor[model.ClientCertificatePolicy](),
	"Secret":                  reflect.TypeFor[model.Secret](),
}

// TestFixTextsNameRealFields reads every fix text in the repository's Go
// sources (an argument passed as a parameter named fix, a Fix: field, the
// text after "Fix: " in a string) and every certcheck message, and checks
// that each field it names in camelCase ("verifyDepth",
// "crl.onlyVerifyLeaf", "ClientCertificatePolicy.authorization") is a field
// of trustgate's kinds, reached along that path. A fix that names a field
// the user cannot set sends them looking for nothing.
func TestFixTextsNameRealFields(t *testing.T) {
	texts := fixTexts(t, "..")
	if len(texts) < 40 {
		t.Fatalf("found only %d fix texts and messages; the scanner is broken", len(texts))
	}
	tree := newFieldTree()
	checked := 0
	for _, ft := range texts {
		for _, ref := range fieldRefs(ft.text) {
			checked++
			if !tree.valid(ref) {
				t.Errorf("%s: names %q, which is no field path of trustgate's kinds:\n  %s", ft.pos, ref, ft.text)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d field names checked; the extraction is broken", checked)
	}
}

// TestFieldRefsExtraction pins what counts as naming a field.
func TestFieldRefsExtraction(t *testing.T) {
	got := fieldRefs("Set crl.onlyVerifyLeaf (Envoy's only_verify_leaf_cert_crl), verifyCertificateSpki[2] or " +
		"ClientCertificatePolicy.authorization; keyCertSign, tls.crt and example.com are not fields; neither is onlyVerifyLeafCertCrl's owner.")
	want := []string{"crl.onlyVerifyLeaf", "verifyCertificateSpki", "ClientCertificatePolicy.authorization", "onlyVerifyLeafCertCrl"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fieldRefs = %q, want %q", got, want)
	}
	tree := newFieldTree()
	for ref, want := range map[string]bool{
		"crl.onlyVerifyLeaf": true, "onlyVerifyLeafCertCrl": false, "verifyCertificateSpki": true,
		"ClientCertificatePolicy.authorization": true, "Gateway.spec.servers.tls.credentialName": true,
		"tls.credentialName": true, "crl.onlyVerifyLeafCertCrl": false, "Gateway.authorization": false,
	} {
		if got := tree.valid(ref); got != want {
			t.Errorf("valid(%q) = %v, want %v", ref, got, want)
		}
	}
}

type fixText struct {
	pos  string
	text string
}

// fixTexts collects the fix texts of every non-test Go file under root,
// and the message formats of package certcheck.
func fixTexts(t *testing.T, root string) []fixText {
	t.Helper()
	fset := token.NewFileSet()
	byDir := map[string][]*ast.File{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var out []fixText
	for _, d := range dirs {
		out = append(out, packageFixTexts(fset, byDir[d], filepath.Base(d) == "certcheck")...)
	}
	return out
}

// packageFixTexts finds the fix texts of one package's files. withMessages
// also takes the format argument that follows a fix (certcheck's errorf and
// warnf).
func packageFixTexts(fset *token.FileSet, files []*ast.File, withMessages bool) []fixText {
	fixParam := map[string]int{} // function name -> index of its fix parameter
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil {
				continue
			}
			i := 0
			for _, field := range fd.Type.Params.List {
				for _, name := range field.Names {
					if strings.EqualFold(name.Name, "fix") {
						fixParam[fd.Name.Name] = i
					}
					i++
				}
			}
		}
	}
	var out []fixText
	add := func(e ast.Expr) {
		if s, ok := stringValue(e); ok {
			out = append(out, fixText{fset.Position(e.Pos()).String(), s})
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				id, ok := n.Fun.(*ast.Ident)
				if i, has := fixParam[idName(id, ok)]; has && i < len(n.Args) {
					add(n.Args[i])
					if withMessages && i+1 < len(n.Args) {
						add(n.Args[i+1])
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Fix" {
					add(n.Value)
				}
			case *ast.BasicLit:
				if s, ok := stringValue(n); ok {
					if _, after, found := strings.Cut(s, "Fix: "); found {
						out = append(out, fixText{fset.Position(n.Pos()).String(), after})
					}
				}
			}
			return true
		})
	}
	return out
}

func idName(id *ast.Ident, ok bool) string {
	if !ok {
		return ""
	}
	return id.Name
}

// stringValue is the value of a string literal or a concatenation of them.
func stringValue(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		l, ok1 := stringValue(e.X)
		r, ok2 := stringValue(e.Y)
		return l + r, ok1 && ok2 && e.Op == token.ADD
	}
	return "", false
}

var (
	refRE   = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_]*(?:\[[^\]\s]*\])?(?:\.[A-Za-z][A-Za-z0-9_]*(?:\[[^\]\s]*\])?)*`)
	indexRE = regexp.MustCompile(`\[[^\]]*\]`)
	camelRE = regexp.MustCompile(`^[a-z]+[A-Z][A-Za-z0-9]*$`)
)

// fieldRefs returns the field paths a text names: dotted paths and words
// with a lowerCamelCase segment, or a kind followed by a field; indexes are
// dropped and RFC 5280 terms skipped.
func fieldRefs(text string) []string {
	var out []string
	for _, m := range refRE.FindAllString(text, -1) {
		ref := indexRE.ReplaceAllString(m, "")
		segs := strings.Split(ref, ".")
		_, isKind := kinds[segs[0]]
		camel := false
		for _, s := range segs {
			camel = camel || camelRE.MatchString(s)
		}
		if (camel || (isKind && len(segs) > 1)) && (len(segs) != 1 || !x509Terms[ref]) {
			out = append(out, ref)
		}
	}
	return out
}

// fieldTree is every struct type of trustgate's kinds with its fields by
// JSON name (embedded structs flattened).
type fieldTree map[reflect.Type]map[string]reflect.Type

func newFieldTree() fieldTree {
	tree := fieldTree{}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		tree.add(kinds[k])
	}
	return tree
}

func (tr fieldTree) add(t reflect.Type) {
	t = elem(t)
	if t.Kind() != reflect.Struct || tr[t] != nil {
		return
	}
	fields := map[string]reflect.Type{}
	tr[t] = fields
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-" || !f.IsExported():
				continue
			case name == "" && (f.Anonymous || strings.Contains(opts, "inline")) && elem(f.Type).Kind() == reflect.Struct:
				walk(elem(f.Type))
				continue
			case name == "":
				name = f.Name
			}
			fields[name] = elem(f.Type)
			tr.add(f.Type)
		}
	}
	walk(t)
}

// elem strips pointers, slices and maps down to the element type.
func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	return t
}

// valid reports whether ref is a field path: from a kind (and its spec)
// when it starts with a kind's name, else from any struct of the kinds.
func (tr fieldTree) valid(ref string) bool {
	segs := strings.Split(ref, ".")
	if k, ok := kinds[segs[0]]; ok {
		return tr.follow(elem(k), segs[1:]) || tr.follow(tr[elem(k)]["spec"], segs[1:])
	}
	for t := range tr {
		if tr.follow(t, segs) {
			return true
		}
	}
	return false
}

func (tr fieldTree) follow(t reflect.Type, segs []string) bool {
	for _, s := range segs {
		next, ok := tr[t][s]
		if !ok {
			return false
		}
		t = next
	}
	return true
}
