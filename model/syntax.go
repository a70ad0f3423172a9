package model

import (
	"bytes"
	"strconv"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// maxSyntaxErrors bounds the syntax errors reported for one file.
const maxSyntaxErrors = 100

// syntaxError reports a YAML syntax error in data (which starts after line
// offset of file) and goes on with the documents after it. The parser
// cannot find the next document after a syntax error by itself, but a
// document marker ("---" at the start of a line) ends a document whatever
// came before it: YAML forbids it inside any content, quoted and block
// scalars included. So decoding restarts on the line after the next marker
// below the error, and the other objects of the file are still loaded and
// checked: syntaxError returns where to go on. Without a line number (an
// error about the whole stream) the rest of the file is skipped.
func (l *loader) syntaxError(file string, data []byte, offset int, err error) (rest []byte, restOffset int) {
	l.syntaxErrs++
	line, msg := 0, err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1]) // the pattern guarantees digits
		msg = m[2]
	}
	fe := &FieldError{File: file, Msg: "invalid YAML: " + msg, Code: CodeYAMLSyntax}
	if line > 0 {
		fe.Line = line + offset
	}
	l.errs.Add(fe)
	if line == 0 {
		return nil, 0
	}
	rest, skipped, ok := afterNextMarker(data, line)
	if !ok {
		return nil, 0
	}
	return rest, offset + skipped
}

// afterNextMarker returns data from the first document marker ("---" alone
// or followed by a space or tab) on a line after line (1-based), and how
// many lines come before it; ok is false when there is none.
func afterNextMarker(data []byte, line int) (rest []byte, skipped int, ok bool) {
	n := 0
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n')
		cur, next := data, []byte(nil)
		if end >= 0 {
			cur, next = data[:end], data[end+1:]
		}
		n++
		if n > line && isDocumentMarker(bytes.TrimSuffix(cur, []byte("\r"))) {
			// The marker's own line starts the next document, so that a
			// document on the marker's line ("--- {...}") is kept.
			return data, n - 1, true
		}
		if end < 0 {
			break
		}
		data = next
	}
	return nil, 0, false
}

func isDocumentMarker(l []byte) bool {
	return bytes.Equal(l, []byte("---")) || bytes.HasPrefix(l, []byte("--- ")) || bytes.HasPrefix(l, []byte("---\t"))
}

// shiftLines adds offset to the line of every node of a document decoded
// from the middle of a file. Each node is visited once: an alias node
// points to its anchor, which sits elsewhere in the tree, and is not
// followed.
func shiftLines(n *yaml.Node, offset int) {
	if n == nil || offset == 0 {
		return
	}
	n.Line += offset
	for _, c := range n.Content {
		shiftLines(c, offset)
	}
}
