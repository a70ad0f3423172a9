package kubernetes

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/trustgate/trustgate/model"
)

// Outcome is the result of one load, per object: what the status writer
// writes back.
type Outcome struct {
	At time.Time
	// OK is true when the configuration was accepted and is served.
	OK bool
	// Objects are the objects read, each with its findings.
	Objects []ObjectResult
	// Global are errors that name no object (a Secret that could not be
	// read, an internal error).
	Global []string
	// Blocking are the objects whose errors hold the configuration back.
	Blocking []string
}

// ObjectResult is one object's findings in one load.
type ObjectResult struct {
	Ref      objectRef
	Errors   []string // "field.path: message"
	Warnings []string
	// SecretNotFound are the Errors that say a Secret does not exist
	// (model.ErrSecretNotFound).
	SecretNotFound []string
	// Served is the generation of this object that trustgate serves (0:
	// none): the current one when the load succeeded, else the one of the
	// last good configuration.
	Served int64
}

// Accepted reports whether no error names the object.
func (r ObjectResult) Accepted() bool { return len(r.Errors) == 0 }

// Programmed reports whether the current generation is served.
func (r ObjectResult) Programmed() bool { return r.Served == r.Ref.Generation }

// record turns an evaluation into the current Outcome and tells the
// status writer.
func (s *Source) record(ev evaluation) {
	out := outcomeOf(ev)
	s.mu.Lock()
	prev := s.outcome
	served := map[string]int64{}
	for _, o := range prev.Objects {
		served[o.Ref.Ref()] = o.Served
	}
	for i := range out.Objects {
		o := &out.Objects[i]
		if out.OK {
			o.Served = o.Ref.Generation
		} else {
			o.Served = served[o.Ref.Ref()]
		}
	}
	s.outcome = out
	notify := s.notify
	s.mu.Unlock()
	for _, ch := range notify {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// CurrentOutcome returns the last load's outcome.
func (s *Source) CurrentOutcome() *Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outcome
}

// subscribe returns a channel that receives after every load.
func (s *Source) subscribe() <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.notify = append(s.notify, ch)
	s.mu.Unlock()
	return ch
}

// outcomeOf attributes an evaluation's errors and warnings to its objects.
// A finding about a Secret ("Secret ns/name: ...": its data, or the
// certificate diagnosis) goes to every object that names the Secret, so a
// Secret change that is held back shows where the user looks.
func outcomeOf(ev evaluation) *Outcome {
	out := &Outcome{At: time.Now(), OK: ev.err == nil}
	idx := map[string]int{}
	for _, ref := range ev.objects {
		idx[ref.Ref()] = len(out.Objects)
		out.Objects = append(out.Objects, ObjectResult{Ref: ref})
	}
	// toUsers gives a Secret's finding to the objects that name it.
	toUsers := func(msg string, add func(*ObjectResult, string)) bool {
		ref, _, ok := strings.Cut(msg, ": ")
		ns, name, isSecret := strings.Cut(strings.TrimPrefix(ref, "Secret "), "/")
		if !ok || !strings.HasPrefix(ref, "Secret ") || !isSecret {
			return false
		}
		given := false
		for _, u := range ev.wanted.users[nsName{ns, name}] {
			if i, ok := idx[u]; ok {
				add(&out.Objects[i], msg)
				given = true
			}
		}
		return given
	}
	addErr := func(o *ObjectResult, msg string) { o.Errors = append(o.Errors, msg) }
	var global []string
	for _, fe := range fieldErrors(ev.err, &global) {
		i, ok := idx[fe.Object]
		if !ok {
			if !toUsers(fe.Error(), addErr) {
				out.Global = append(out.Global, fe.Error())
			}
			continue
		}
		msg := withoutObject(fe)
		out.Objects[i].Errors = append(out.Objects[i].Errors, msg)
		if errors.Is(fe, model.ErrSecretNotFound) {
			out.Objects[i].SecretNotFound = append(out.Objects[i].SecretNotFound, msg)
		}
	}
	for _, g := range global {
		if !toUsers(g, addErr) {
			out.Global = append(out.Global, g)
		}
	}
	if ev.cfg != nil {
		for _, w := range ev.cfg.Warnings() {
			// A warning names its object first ("Kind ns/name: ..."); one
			// that names none is logged by serve only.
			ref, _, ok := strings.Cut(w, ": ")
			if i, found := idx[ref]; ok && found {
				out.Objects[i].Warnings = append(out.Objects[i].Warnings, strings.TrimPrefix(w, ref+": "))
				continue
			}
			toUsers(w, func(o *ObjectResult, msg string) { o.Warnings = append(o.Warnings, msg) })
		}
	}
	for _, o := range out.Objects {
		if len(o.Errors) > 0 {
			out.Blocking = append(out.Blocking, o.Ref.Ref())
		}
	}
	slices.Sort(out.Blocking)
	return out
}

// withoutObject is a field error as an object's status shows it.
func withoutObject(fe *model.FieldError) string {
	if fe.Path == "" {
		return fe.Msg
	}
	return fe.Path + ": " + fe.Msg
}

// fieldErrors flattens err into the model's field errors; other errors go
// to global.
func fieldErrors(err error, global *[]string) []*model.FieldError {
	if err == nil {
		return nil
	}
	var fe *model.FieldError
	if errors.As(err, &fe) && err == error(fe) {
		return []*model.FieldError{fe}
	}
	var list *model.ErrorList
	if l, ok := err.(*model.ErrorList); ok {
		list = l
	}
	if list != nil {
		return list.Errs
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*model.FieldError
		for _, e := range j.Unwrap() {
			out = append(out, fieldErrors(e, global)...)
		}
		return out
	}
	*global = append(*global, err.Error())
	return nil
}
