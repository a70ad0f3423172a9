package model

import (
	"errors"
	"strings"
)

// LoadAndValidate loads and validates in one run and returns every error of
// both: an object that failed to decode, or a file with a syntax error,
// does not stop the validation of the other objects, nor of the rest of the
// object (Validate sees whatever decoded). Validation errors that a
// decoding error already explains are left out: those at or inside the
// field that failed to decode, of the same object, and those at the field
// an unknown field was probably meant to be (a "hostz" makes "hosts"
// missing).
func LoadAndValidate(opts LoadOptions) (*Config, error) {
	cfg, loadErr := Load(opts)
	return cfg, cfg.ValidateLoaded(loadErr, nil)
}

// ValidateLoaded validates c, which a load that returned loadErr produced
// (Load, or LoadDocuments for objects from the Kubernetes API), and
// returns every error of both, as LoadAndValidate does; cache is
// ValidateWith's (nil: none).
func (c *Config) ValidateLoaded(loadErr error, cache *Cache) error {
	valErr := c.ValidateWith(cache)
	if loadErr == nil {
		return valErr
	}
	var errs Errors
	decoding := fieldErrors(loadErr)
	errs.Add(decoding...)
	for _, e := range fieldErrors(valErr) {
		if !explained(e, decoding) {
			errs.Add(e)
		}
	}
	return errs.Err()
}

// fieldErrors lists the FieldErrors of an *ErrorList (nil for nil).
func fieldErrors(err error) []*FieldError {
	var l *ErrorList
	if !errors.As(err, &l) {
		return nil
	}
	return l.Errs
}

// explained reports whether a decoding error of e's object explains e.
func explained(e *FieldError, decoding []*FieldError) bool {
	for _, d := range decoding {
		if d.Object == "" || d.File != e.File || d.Object != e.Object {
			continue
		}
		if within(e.Path, d.Path) || (d.Explains != "" && within(e.Path, d.Explains)) {
			return true
		}
	}
	return false
}

// within reports whether field path p is at or inside path outer ("" is the
// whole object).
func within(p, outer string) bool {
	return outer == "" || p == outer || strings.HasPrefix(p, outer+".") || strings.HasPrefix(p, outer+"[")
}
