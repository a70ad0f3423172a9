package xdstls

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/trustgate/trustgate/labelset"
)

// ErrPolicy is returned (wrapped) for an invalid policy file.
var ErrPolicy = errors.New("invalid xDS authorization policy")

// Policy binds proxy identities to the node labels they may claim. It is a
// YAML list of entries:
//
//	# authz.yaml
//	- identity: spiffe://example.org/gateway/edge-1     # exact
//	  labels: {app: edge}
//	- identity: spiffe://example.org/gateway/internal-* # prefix
//	  labels: {app: internal}
//
// A node is allowed when its labels equal the labels of an entry whose
// identity matches its (verified) node id; several entries may match.
type Policy struct {
	entries []Entry
}

// Entry is one identity pattern and the labels it may claim.
type Entry struct {
	Identity string            // exact, or a prefix followed by a final "*"
	Labels   map[string]string // compared for equality with the node's labels
	At       string            // file:line of the entry
}

// ParsePolicy parses a policy file; name is used in errors and in At.
func ParsePolicy(name string, b []byte) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrPolicy, name, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%w: %s: no entries", ErrPolicy, name)
	}
	list := doc.Content[0]
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%w: %s:%d: want a list of {identity, labels} entries", ErrPolicy, name, list.Line)
	}
	p := &Policy{}
	var errs []error
	for _, item := range list.Content {
		e, err := parseEntry(name, item)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.entries = append(p.entries, e)
	}
	if len(list.Content) == 0 {
		errs = append(errs, fmt.Errorf("%w: %s:%d: no entries", ErrPolicy, name, list.Line))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

func parseEntry(name string, n *yaml.Node) (Entry, error) {
	at := fmt.Sprintf("%s:%d", name, n.Line)
	fail := func(format string, args ...any) (Entry, error) {
		return Entry{}, fmt.Errorf("%w: %s: %s", ErrPolicy, at, fmt.Sprintf(format, args...))
	}
	if n.Kind != yaml.MappingNode {
		return fail("an entry must be a mapping {identity, labels}")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "identity" && k != "labels" {
			return fail("unknown field %q (want identity and labels)", k)
		}
	}
	var raw struct {
		Identity string            `yaml:"identity"`
		Labels   map[string]string `yaml:"labels"`
	}
	if err := n.Decode(&raw); err != nil {
		return fail("%v", err)
	}
	switch i := strings.Index(raw.Identity, "*"); {
	case raw.Identity == "":
		return fail("identity is required")
	case i >= 0 && i != len(raw.Identity)-1:
		return fail("identity %q: \"*\" may only end a pattern", raw.Identity)
	}
	if _, ok := raw.Labels[""]; ok {
		return fail("a label has an empty key")
	}
	if raw.Labels == nil {
		raw.Labels = map[string]string{}
	}
	return Entry{Identity: raw.Identity, Labels: raw.Labels, At: at}, nil
}

// Matching returns the entries whose identity pattern matches identity.
func (p *Policy) Matching(identity string) []Entry {
	var out []Entry
	for _, e := range p.entries {
		if matches(e.Identity, identity) {
			out = append(out, e)
		}
	}
	return out
}

// matches reports whether identity matches pattern: equal, or starting with
// the part of pattern before its final "*".
func matches(pattern, identity string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(identity, prefix)
	}
	return pattern == identity
}

// Allows reports whether identity may claim exactly these labels.
func (p *Policy) Allows(identity string, labels map[string]string) bool {
	return slices.ContainsFunc(p.Matching(identity), func(e Entry) bool { return maps.Equal(e.Labels, labels) })
}

// formatLabels renders labels as the one label-set key (labelset.Key: a
// ',' or '=' inside a value is escaped, so two label sets never read
// alike), "{}" when empty.
func formatLabels(l map[string]string) string {
	if len(l) == 0 {
		return "{}"
	}
	return labelset.Key(l)
}
