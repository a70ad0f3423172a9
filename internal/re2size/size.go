package re2size

import (
	"errors"
	"fmt"
)

// Limit is the RE2 program size above which the Envoy that trustgate's
// bootstrap configures rejects a regex: the bootstrap sets the runtime key
// re2.max_program_size.error_level to it (Envoy's default is 100).
const Limit = 1000

// ErrTooBig is returned (wrapped in *SizeError) for a regex over the limit.
var ErrTooBig = errors.New("RE2 program too large for Envoy")

// SizeError says how large a regex's program is and what the limit is.
type SizeError struct {
	Size  int // the measured program size; 0 when RE2 could not compile it
	Limit int
}

func (e *SizeError) Error() string {
	if e.Size == 0 {
		return fmt.Sprintf("regex is too large for RE2 to compile (Envoy accepts an RE2 program size of at most %d)", e.Limit)
	}
	return fmt.Sprintf("regex has an RE2 program size of %d; Envoy accepts at most %d (runtime re2.max_program_size.error_level)", e.Size, e.Limit)
}

func (e *SizeError) Unwrap() error { return ErrTooBig }

// ProgramSize returns RE2::ProgramSize() for pattern compiled with RE2's
// default options, as Envoy's CompiledGoogleReMatcher compiles it. An
// error means Go's parser rejects the pattern, or RE2 could not compile it
// at all (errTooLarge).
func ProgramSize(pattern string) (int, error) { return programSize(pattern, false) }

// programSize measures as RE2 2024-07-02 does or, with re2v2022, as the
// RE2 releases before 2023-08-01 did (they differ only in repeated
// empty-width assertions such as ^{2}).
func programSize(pattern string, re2v2022 bool) (int, error) {
	re, err := parse(pattern)
	if err != nil {
		return 0, err
	}
	p, err := compile(requiredPrefixSuffix(re), re2v2022)
	if err != nil {
		return 0, err
	}
	p.optimize()
	return p.flattenedSize(), nil
}

// Check measures pattern against limit. Syntax errors are returned as they
// are; a program over the limit gives a *SizeError.
func Check(pattern string, limit int) error {
	n, err := ProgramSize(pattern)
	if errors.Is(err, errTooLarge) {
		return &SizeError{Limit: limit}
	}
	if err != nil {
		return err
	}
	if n > limit {
		return &SizeError{Size: n, Limit: limit}
	}
	return nil
}

// requiredPrefixSuffix is what RE2::Init compiles: for ^literal... (a
// required prefix, Regexp::RequiredPrefix) only the rest, which RE2 then
// matches unanchored after comparing the prefix itself.
func requiredPrefixSuffix(re *node) *node {
	if re.op != opConcat {
		return re
	}
	i := 0
	for i < len(re.subs) && re.subs[i].op == opBeginText {
		i++
	}
	if i == 0 || i >= len(re.subs) {
		return re
	}
	if lit := re.subs[i]; lit.op != opLiteral && lit.op != opLiteralString {
		return re
	}
	i++
	if i < len(re.subs) {
		return concat(re.subs[i:], re.flags)
	}
	return newNode(opEmptyMatch, re.flags)
}

// CaseFold returns pattern matching case-insensitively when fold is set,
// the form trustgate gives Envoy for ignoreUriCase and for case-insensitive
// certificate and header matches, so that the size checked is the size
// Envoy compiles.
func CaseFold(pattern string, fold bool) string {
	if !fold {
		return pattern
	}
	return "(?i:" + pattern + ")"
}
