package envoymodel

import (
	"fmt"
	"strings"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// pathAction is the outcome of ConnectionManagerUtility::maybeNormalizePath.
type pathAction int

const (
	pathContinue pathAction = iota
	pathReject
	pathRedirect
)

// normalizePath is ConnectionManagerUtility::maybeNormalizePath
// (source/common/http/conn_manager_utility.cc): a fragment is rejected
// (http_reject_path_with_fragment); %2F and %5C are unescaped unless
// path_with_escaped_slashes_action keeps them (and then the request is
// rejected, redirected or forwarded as configured); normalize_path
// canonicalizes the path (dot segments, backslashes, escapes); merge_slashes
// collapses repeated slashes last.
func normalizePath(cfg *hcmv3.HttpConnectionManager, h *headerMap) (pathAction, []string) {
	path, _ := h.get(":path")
	var notes []string
	if strings.Contains(path, "#") {
		return pathReject, []string{"a path with a fragment is rejected (http_reject_path_with_fragment)"}
	}
	action := pathContinue
	switch esc := cfg.GetPathWithEscapedSlashesAction(); esc {
	case hcmv3.HttpConnectionManager_IMPLEMENTATION_SPECIFIC_DEFAULT, hcmv3.HttpConnectionManager_KEEP_UNCHANGED:
	default:
		if unescaped, found := unescapeSlashes(path); found {
			notes = append(notes, fmt.Sprintf("escaped slashes unescaped: %s -> %s", path, unescaped))
			path = unescaped
			switch esc {
			case hcmv3.HttpConnectionManager_REJECT_REQUEST:
				return pathReject, append(notes, "path_with_escaped_slashes_action REJECT_REQUEST")
			case hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT:
				action = pathRedirect
			}
		}
	}
	if cfg.GetNormalizePath().GetValue() {
		canon := canonicalPath(path)
		if canon != path {
			notes = append(notes, fmt.Sprintf("normalized %s -> %s", path, canon))
		}
		path = canon
	}
	if cfg.GetMergeSlashes() {
		merged := mergeSlashes(path)
		if merged != path {
			notes = append(notes, fmt.Sprintf("merged slashes %s -> %s", path, merged))
		}
		path = merged
	}
	h.set(":path", path)
	return action, notes
}

// unescapeSlashes is PathUtil::unescapeSlashes: %2F/%2f and %5C/%5c in the
// path part (the query is left alone).
func unescapeSlashes(path string) (string, bool) {
	p, q, hasQ := strings.Cut(path, "?")
	r := strings.NewReplacer("%2F", "/", "%2f", "/", "%5C", `\`, "%5c", `\`)
	out := r.Replace(p)
	if hasQ {
		out += "?" + q
	}
	return out, out != path
}

// mergeSlashes is PathTransformer::mergeSlashes on the path part.
func mergeSlashes(path string) string {
	p, q, hasQ := strings.Cut(path, "?")
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if hasQ {
		return p + "?" + q
	}
	return p
}

// canonicalPath is PathUtil::canonicalPath, Chromium's url::CanonicalizePath
// on the part before '?': backslashes become slashes, escapes of unreserved
// characters are decoded, characters not allowed in a path are escaped, and
// "." and ".." segments (also as %2e) are resolved. (The escaping table is
// a subset of Chromium's kPathCharLookup, unverified for rare bytes.)
func canonicalPath(path string) string {
	p, q, hasQ := strings.Cut(path, "?")
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			b.WriteByte('/')
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			d := unhex(p[i+1])<<4 | unhex(p[i+2])
			if isUnreserved(d) {
				b.WriteByte(d)
			} else {
				b.WriteString(p[i : i+3])
			}
			i += 2
		case c <= 0x20 || c >= 0x7f || strings.IndexByte("\"<>`{}", c) >= 0:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	out := removeDotSegments(b.String())
	if hasQ {
		return out + "?" + q
	}
	return out
}

// removeDotSegments resolves "." and ".." segments (RFC 3986 5.2.4); ".."
// above the root stays at the root.
func removeDotSegments(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	segs := strings.Split(p[1:], "/")
	var out []string
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// isHex reports whether c is a hex digit.
func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// unhex is a hex digit's value.
func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// isUnreserved reports RFC 3986 unreserved characters.
func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0
}
