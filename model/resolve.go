package model

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/trustgate/trustgate/internal/suggest"
)

// Credential is a resolved secret's material.
type Credential struct {
	Name, Namespace string // Namespace "" for secrets-dir entries
	// Origin is "path/file.yaml:12 Secret ns/name", or the secrets-directory
	// entry's directory.
	Origin             string
	Cert, Key, CA, CRL []byte // PEM; any may be empty
}

// WorkloadSecretsNamespace is where the gateway workload's secrets live (Istio: istio-system).
const WorkloadSecretsNamespace = "istio-system"

// CASuffix is appended to a credentialName to name the secret holding its
// client CA (Istio's "-cacert" convention).
const CASuffix = "-cacert"

// Sentinels wrapped by the resolvers' errors (errors.Is).
var (
	// ErrSecretNotFound: no secret of that name is visible.
	ErrSecretNotFound = errors.New("secret not found")
	// ErrSecretAmbiguous: several visible secrets of that name differ.
	ErrSecretAmbiguous = errors.New("secret is ambiguous")
	// ErrNoCA: the secret carries no CA certificate.
	ErrNoCA = errors.New("secret has no CA")
)

// ResolveError is a resolver's error: a message for the user that unwraps
// to one of the sentinels above.
type ResolveError struct {
	Err error
	Msg string
}

// Error returns the message.
func (e *ResolveError) Error() string { return e.Msg }

// Unwrap returns the sentinel.
func (e *ResolveError) Unwrap() error { return e.Err }

// ResolveCredential finds the secret `name` for an object in namespace ns: Secret documents in ns or in
// WorkloadSecretsNamespace, and the secrets directory. More than one distinct match is an error listing
// the candidates (file:line each); none is an error with a "did you mean" suggestion (edit distance).
//
// Errors are *ResolveError without a position: the caller knows the
// referencing field and wraps them with Object.ErrorAt(path, err).
func (c *Config) ResolveCredential(ns, name string) (*Credential, error) {
	s, err := c.pickSecret(ns, name)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, c.notFound(ns, name, "")
	}
	cert, key, ca, crl := c.material(s)
	cr := credentialOf(s)
	cr.Cert, cr.Key, cr.CA, cr.CRL = cert, key, ca, crl
	return cr, nil
}

// ResolveCACredential resolves the client CA of credentialName as Istio does: `<name>-cacert` first
// (key cacert or ca.crt, optional crl/ca.crl), else `<name>` itself (its ca.crt/cacert); error if neither
// carries a CA.
//
// The Credential names the secret that supplied the CA and carries only CA
// and CRL. As in Istio, a `<name>-cacert` secret without a CA is an error,
// not a reason to fall back.
func (c *Config) ResolveCACredential(ns, name string) (*Credential, error) {
	s, err := c.pickSecret(ns, name+CASuffix)
	if err != nil {
		return nil, err
	}
	fallback := s == nil
	if fallback {
		if s, err = c.pickSecret(ns, name); err != nil {
			return nil, err
		}
		if s == nil {
			return nil, c.notFound(ns, name, name+CASuffix)
		}
	}
	_, _, ca, crl := c.material(s)
	if len(ca) == 0 {
		msg := fmt.Sprintf("secret %q (%s) has no CA: expected key cacert or ca.crt; found: %s",
			s.Metadata.Name, s.origin(), keyList(s))
		if fallback {
			msg += fmt.Sprintf("; add ca.crt, or create secret %q", name+CASuffix)
		}
		return nil, &ResolveError{Err: ErrNoCA, Msg: msg}
	}
	cr := credentialOf(s)
	cr.CA, cr.CRL = ca, crl
	return cr, nil
}

func credentialOf(s *Secret) *Credential {
	return &Credential{Name: s.Metadata.Name, Namespace: s.Metadata.Namespace, Origin: s.origin()}
}

func keyList(s *Secret) string {
	if keys := s.Keys(); len(keys) > 0 {
		return strings.Join(keys, ", ")
	}
	return "no keys"
}

// visible reports whether secret s can serve an object in namespace ns.
func visible(s *Secret, ns string) bool {
	sns := s.Metadata.Namespace
	return sns == "" || sns == ns || sns == WorkloadSecretsNamespace
}

// rank orders candidates: the object's namespace, then the workload's, then
// the secrets directory.
func rank(s *Secret, ns string) int {
	switch s.Metadata.Namespace {
	case ns:
		return 0
	case WorkloadSecretsNamespace:
		return 1
	}
	return 2
}

// pickSecret returns the secret `name` visible from ns, nil if there is
// none, or an error if several visible ones differ in content.
func (c *Config) pickSecret(ns, name string) (*Secret, error) {
	var cands []*Secret
	for _, s := range c.secretsNamed(name) {
		if visible(s, ns) {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return nil, nil
	}
	if len(cands) == 1 { // the usual case, resolved once per referencing field on every build
		return cands[0], nil
	}
	sort.SliceStable(cands, func(i, j int) bool { return rank(cands[i], ns) < rank(cands[j], ns) })
	for _, s := range cands[1:] {
		if !sameMaterial(cands[0], s) {
			origins := make([]string, len(cands))
			for i, s := range cands {
				origins[i] = s.origin()
			}
			return nil, &ResolveError{Err: ErrSecretAmbiguous, Msg: fmt.Sprintf(
				"secret %q is ambiguous: %s define it differently; keep one", name, strings.Join(origins, ", "))}
		}
	}
	return cands[0], nil
}

func sameMaterial(a, b *Secret) bool {
	ac, ak, aca, acrl := a.material()
	bc, bk, bca, bcrl := b.material()
	return bytes.Equal(ac, bc) && bytes.Equal(ak, bk) && bytes.Equal(aca, bca) && bytes.Equal(acrl, bcrl)
}

// notFound says where secret `name` (and `alt`, if given) was looked for,
// suggesting the closest visible name.
func (c *Config) notFound(ns, name, alt string) error {
	where := fmt.Sprintf("namespace %q", ns)
	if ns != WorkloadSecretsNamespace {
		where = fmt.Sprintf("namespaces %q and %q", ns, WorkloadSecretsNamespace)
	}
	switch len(c.SecretsDirs) {
	case 0:
	case 1:
		where += " or the secrets directory " + c.SecretsDirs[0]
	default:
		where += " or the secrets directories " + strings.Join(c.SecretsDirs, ", ")
	}
	what := fmt.Sprintf("secret %q", name)
	if alt != "" {
		what = fmt.Sprintf("secrets %q and %q", alt, name)
	}
	var names []string
	for _, s := range c.Secrets {
		if visible(s, ns) {
			names = append(names, s.Metadata.Name)
		}
	}
	return &ResolveError{Err: ErrSecretNotFound, Msg: fmt.Sprintf("%s not found in %s%s", what, where, didYouMean(name, names))}
}

// didYouMean returns ` (did you mean "x"?)` for the candidate closest to
// name by edit distance, if it is close enough, else "".
func didYouMean(name string, candidates []string) string {
	const maxLen = 253 // longer names are not DNS names; do not spend time on them
	if len(name) > maxLen {
		return ""
	}
	short := slices.DeleteFunc(slices.Clone(candidates), func(c string) bool { return len(c) > maxLen })
	best := suggest.Closest(name, short, max(2, len(name)/3))
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
