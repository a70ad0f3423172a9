package compile

import (
	"errors"

	"github.com/trustgate/trustgate/model"
)

// collect adds err's user errors to errs; false when err is not made of them.
func collect(errs *model.Errors, err error) bool {
	var list *model.ErrorList
	if errors.As(err, &list) {
		errs.Add(list.Errs...)
		return true
	}
	var fe *model.FieldError
	if errors.As(err, &fe) {
		errs.Add(fe)
		return true
	}
	return false
}

// joinErrors joins the user errors (may be nil) with the others.
func joinErrors(user error, other []error) error {
	if user != nil {
		other = append([]error{user}, other...)
	}
	return errors.Join(other...)
}
