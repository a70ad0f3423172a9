package dump

import (
	"bytes"
	"encoding/json"
	"strings"
)

// indentTo appends src, valid JSON, to out indented exactly as
// json.Indent(out, src, prefix, indent) would: insignificant whitespace
// dropped, a newline and prefix plus one indent per depth after '{', '['
// and ',' (none inside an empty object or array), ": " after a key.
// json.Indent runs encoding/json's validating scanner, a state machine
// called per byte, which was a quarter of rendering `translate`'s output;
// this is one pass that copies strings whole. protojson's output is valid
// JSON; should src not balance, json.Indent does the work (and reports the
// error).
func indentTo(out *bytes.Buffer, src []byte, prefix, indent string) error {
	out.Grow(2*len(src) + 64) // indenting about doubles protojson's output
	dst := out.AvailableBuffer()
	if b, ok := appendIndented(dst, src, prefix, indent); ok {
		out.Write(b)
		return nil
	}
	return json.Indent(out, src, prefix, indent)
}

// appendIndented is indentTo's pass; ok is false if src's strings,
// objects or arrays do not balance. Whitespace after the value is kept, as
// json.Indent keeps it.
func appendIndented(dst, src []byte, prefix, indent string) (_ []byte, ok bool) {
	value := bytes.TrimRight(src, " \t\n\r")
	dst, ok = appendIndentedValue(dst, value, prefix, indent)
	return append(dst, src[len(value):]...), ok
}

func appendIndentedValue(dst, src []byte, prefix, indent string) (_ []byte, ok bool) {
	needIndent := false // after '{' or '[', until the next token
	depth := 0
	lines := newLines(prefix, indent)
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			dst = lines.append(dst, depth)
		}
		switch c {
		case '"':
			end := stringEnd(src, i)
			if end < 0 {
				return dst, false
			}
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			needIndent = true // an empty one stays {} or []
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = lines.append(dst, depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if needIndent {
				needIndent = false
			} else {
				depth--
				if depth < 0 {
					return dst, false
				}
				dst = lines.append(dst, depth)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst, depth == 0 && !needIndent
}

// stringEnd returns the index just past the string starting with the quote
// at src[i], or -1 if it does not end.
func stringEnd(src []byte, i int) int {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++ // the escaped byte; \uXXXX's digits are plain bytes
		case '"':
			return j + 1
		}
	}
	return -1
}

// newlines appends a newline, the prefix and depth indents, from one
// string made once for the first 32 depths.
type newlines struct {
	prefix, indent, all string
}

func newLines(prefix, indent string) newlines {
	return newlines{prefix, indent, "\n" + prefix + strings.Repeat(indent, 32)}
}

func (l newlines) append(dst []byte, depth int) []byte {
	if n := 1 + len(l.prefix) + depth*len(l.indent); n <= len(l.all) {
		return append(dst, l.all[:n]...)
	}
	dst = append(dst, '\n')
	dst = append(dst, l.prefix...)
	for range depth {
		dst = append(dst, l.indent...)
	}
	return dst
}
