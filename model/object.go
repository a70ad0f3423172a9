package model

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Position is where an object was defined: its file, the line of its first key,
// and the line of every field path inside it ("spec.servers[1].tls.mode").
type Position struct {
	File  string
	Line  int
	Lines map[string]int
	// Empty holds the field paths written as an empty mapping or list
	// ({} or []).
	Empty map[string]bool
}

// LineOf returns the line of path, or of its longest defined prefix, or of the
// object itself.
func (s Position) LineOf(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := s.Lines[p]; ok {
			return l
		}
	}
	return s.Line
}

// parentPath strips the last segment of a field path: "a.b[2]" -> "a.b" -> "a".
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndex(p, "["); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

// ObjectMeta is the subset of Kubernetes metadata trustgate reads. Other
// standard metadata fields (uid, resourceVersion, ...) are accepted and
// ignored so that `kubectl get -o yaml` output loads.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// CreationTimestamp (RFC 3339, as Kubernetes writes it) orders objects
	// where Istio lets the older one win; see CompareCreation.
	CreationTimestamp string `json:"creationTimestamp,omitempty"`
}

// Object is what every loaded kind embeds.
type Object struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   ObjectMeta `json:"metadata"`
	Pos        Position   `json:"-"`
}

// Meta returns the embedded Object, so all kinds can be handled alike.
func (o *Object) Meta() *Object { return o }

// Ref is "Kind namespace/name", the object part of an error message; objects
// without a namespace (secrets-directory entries) read "Kind name".
func (o *Object) Ref() string {
	if o.Metadata.Namespace == "" {
		return o.Kind + " " + o.Metadata.Name
	}
	return o.Kind + " " + o.Metadata.Namespace + "/" + o.Metadata.Name // not Sprintf: called per object on every build
}

// Errorf makes a FieldError located at path inside this object.
func (o *Object) Errorf(path, format string, args ...any) *FieldError {
	return &FieldError{
		File: o.Pos.File, Line: o.Pos.LineOf(path), Object: o.Ref(),
		Path: path, Msg: fmt.Sprintf(format, args...),
	}
}

// ErrorAt makes a FieldError at path whose message is err's and which
// unwraps to err, so errors.Is sees sentinels such as ErrSecretNotFound.
func (o *Object) ErrorAt(path string, err error) *FieldError {
	fe := o.Errorf(path, "%v", err)
	fe.Err = err
	return fe
}

// FieldError is a user error: "file:line: Kind ns/name: field.path: message".
type FieldError struct {
	File   string
	Line   int
	Object string // "Kind namespace/name"; empty for file-level errors
	Path   string
	Msg    string
	// Warning marks a finding that does not stop the configuration; callers
	// print the severity, Error() does not.
	Warning bool
	// Code names the kind of problem for machines (one of the Code*
	// constants, or a certificate diagnosis code); "" lets Kind decide.
	Code string
	// Fix says how to repair it, when the message alone does not.
	Fix string
	// Err is the underlying error, if any (see Object.ErrorAt).
	Err error
	// Explains is a field path of the same object whose validation errors
	// this decoding error already explains: the field an unknown one was
	// probably meant to be (see LoadAndValidate).
	Explains string
}

// Error formats "file:line: Kind ns/name: path: message Fix: fix"; a Line
// of 0 (a file-level error, or a secrets-directory entry) prints
// "file: ...", and an error about no file (a generated filter chain) starts
// with its object or message.
func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	}
	if e.Object != "" {
		b.WriteString(e.Object + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" Fix: " + e.Fix)
	}
	return printable(b.String())
}

// printable escapes control and bidirectional-formatting characters (as Go
// quotes them: \x1b, \n, \u202e), so that a name, key or file name chosen
// by whoever wrote the files cannot recolour a terminal, move its cursor,
// reorder what it shows or forge a log line.
func printable(s string) string {
	if !strings.ContainsFunc(s, unprintable) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unprintable(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unprintable(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// Unwrap returns the underlying error, if any.
func (e *FieldError) Unwrap() error { return e.Err }

// Errors collects user errors; Err returns them joined and sorted by file and
// line, or nil.
type Errors struct{ list []*FieldError }

// Add appends errors (nil is ignored).
func (es *Errors) Add(errs ...*FieldError) {
	for _, e := range errs {
		if e != nil {
			es.list = append(es.list, e)
		}
	}
}

// Len is the number of collected errors.
func (es *Errors) Len() int { return len(es.list) }

// List returns the collected errors sorted by file, line and message.
func (es *Errors) List() []*FieldError {
	out := append([]*FieldError(nil), es.list...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Error() < b.Error()
	})
	return out
}

// Err returns all collected errors as one error (a *ErrorList), or nil.
func (es *Errors) Err() error {
	if len(es.list) == 0 {
		return nil
	}
	return &ErrorList{Errs: es.List()}
}

// ErrorList is the error returned by Load and Validate: every user error,
// one per line.
type ErrorList struct{ Errs []*FieldError }

func (l *ErrorList) Error() string {
	lines := make([]string, len(l.Errs))
	for i, e := range l.Errs {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each error to errors.Is / errors.As.
func (l *ErrorList) Unwrap() []error {
	out := make([]error, len(l.Errs))
	for i, e := range l.Errs {
		out[i] = e
	}
	return out
}
