package model

import "sync/atomic"

// secretIndex is a Config's Secrets by name, in order, for the slice it
// was built from: pickSecret looked at every secret for each credential
// it resolved, and a certificate per host made 10,000 hosts quadratic
// (docs/performance.md).
type secretIndex struct {
	of     []*Secret // the slice indexed: same length and first element
	byName map[string][]*Secret
}

// secretsNamed returns c's secrets named name, in order. The index is
// built on first use and again whenever c.Secrets is another slice or
// longer (a source appends the API's secrets); no stage replaces a
// secret in place. Concurrent callers may each build it: every build of one
// slice is the same.
func (c *Config) secretsNamed(name string) []*Secret {
	if c.secretIdx == nil { // a Config not made by a loader: no index
		var out []*Secret
		for _, s := range c.Secrets {
			if s.Metadata.Name == name {
				out = append(out, s)
			}
		}
		return out
	}
	x := c.secretIdx.Load()
	if x == nil || len(x.of) != len(c.Secrets) || (len(c.Secrets) > 0 && &x.of[0] != &c.Secrets[0]) {
		x = &secretIndex{of: c.Secrets, byName: make(map[string][]*Secret, len(c.Secrets))}
		for _, s := range c.Secrets {
			x.byName[s.Metadata.Name] = append(x.byName[s.Metadata.Name], s)
		}
		c.secretIdx.Store(x)
	}
	return x.byName[name]
}

// newSecretIndex is the index holder loaders give a Config; copies of the
// Config (ResolveShortNames) share it.
func newSecretIndex() *atomic.Pointer[secretIndex] { return new(atomic.Pointer[secretIndex]) }
