package model

import (
	"errors"
	"regexp"
	"strings"
)

// Codes name the kind of a FieldError for machines (`check -o json`); the
// message is for people. Certificate diagnoses carry certcheck's codes.
const (
	CodeYAMLSyntax       = "yaml-syntax"       // the file is not YAML
	CodeUnknownKind      = "unknown-kind"      // an apiVersion or kind trustgate does not read
	CodeUnknownField     = "unknown-field"     // a field the kind does not have
	CodeUnsupportedField = "unsupported-field" // an Istio field trustgate does not implement
	CodeDuplicateKey     = "duplicate-key"     // a mapping key given twice
	CodeWrongType        = "wrong-type"        // a value of the wrong type (a number for a string, ...)
	CodeTooLarge         = "too-large"         // a document past the decoding limits
	CodeFileUnreadable   = "file-unreadable"   // a configuration file that cannot be read
	CodeSecretNotFound   = "secret-not-found"
	CodeSecretAmbiguous  = "secret-ambiguous"
	CodeSecretNoCA       = "secret-no-ca"
	// CodeInvalid is every other error: a value, a combination of values or
	// a reference that is wrong.
	CodeInvalid = "invalid"
	// CodeRisk is every other warning: a configuration that works but is
	// likely not what was meant.
	CodeRisk = "risk"
)

// EffectiveCode returns e's code: Code when set, else one derived from the error it
// wraps, else CodeInvalid for an error and CodeRisk for a warning.
func (e *FieldError) EffectiveCode() string {
	switch {
	case e.Code != "":
		return e.Code
	case errors.Is(e, ErrSecretNotFound):
		return CodeSecretNotFound
	case errors.Is(e, ErrSecretAmbiguous):
		return CodeSecretAmbiguous
	case errors.Is(e, ErrNoCA):
		return CodeSecretNoCA
	case e.Warning:
		return CodeRisk
	}
	return CodeInvalid
}

// didYouMeanSuffix is the suggestion every "not found" message ends with.
var didYouMeanSuffix = regexp.MustCompile(` \((did you mean [^()]*\?)\)$`)

// Parts splits e's text for machines: the message, and the fix (Fix, or
// else the trailing "(did you mean ...?)" suggestion of the message).
func (e *FieldError) Parts() (message, fix string) {
	if e.Fix != "" {
		return e.Msg, e.Fix
	}
	if m := didYouMeanSuffix.FindStringSubmatchIndex(e.Msg); m != nil {
		return e.Msg[:m[0]], e.Msg[m[2]:m[3]]
	}
	return e.Msg, ""
}

// ObjectRef splits Object, "Kind namespace/name" (or "Kind name" for a
// secrets-directory entry), into its parts.
func (e *FieldError) ObjectRef() (kind, namespace, name string) {
	kind, ref, ok := strings.Cut(e.Object, " ")
	if !ok {
		return e.Object, "", ""
	}
	if ns, n, ok := strings.Cut(ref, "/"); ok {
		return kind, ns, n
	}
	return kind, "", ref
}
