package kubernetes

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Condition types. trustgate's own kind uses the plain names; on Istio's
// kinds they carry trustgate's domain, so they sit beside conditions that
// Istio (or another controller) writes without either overwriting the
// other.
const (
	ConditionAccepted   = "Accepted"
	ConditionProgrammed = "Programmed"
	istioPrefix         = "trustgate.dev/"
)

// Codes of trustgate's entries in an Istio object's
// status.validationMessages (Istio's AnalysisMessageBase: type.code,
// type.name, level); entries with other codes are Istio's and are kept.
const (
	codeError   = "TG0001"
	codeWarning = "TG0002"
)

// maxMessage bounds a condition message (the API allows 32 KiB).
const maxMessage = 4096

// desiredStatus computes the status fields trustgate owns for one object,
// merged into its current status.
func desiredStatus(current map[string]any, r ObjectResult, out *Outcome, now time.Time) map[string]any {
	status := map[string]any{}
	for k, v := range current {
		status[k] = v
	}
	prefix := ""
	if r.Ref.Kind.Istio {
		prefix = istioPrefix
	} else {
		status["observedGeneration"] = r.Ref.Generation
	}
	conds := conditionsOf(r, out)
	status["conditions"] = mergeConditions(current["conditions"], prefix, conds, r.Ref.Generation, now)
	if r.Ref.Kind.Istio {
		status["validationMessages"] = mergeMessages(current["validationMessages"], r)
	}
	return status
}

type condition struct{ Type, Status, Reason, Message string }

func conditionsOf(r ObjectResult, out *Outcome) []condition {
	accepted := condition{Type: ConditionAccepted, Status: "True", Reason: "Valid", Message: "trustgate accepts this object"}
	if !r.Accepted() {
		accepted = condition{Type: ConditionAccepted, Status: "False", Reason: "Invalid", Message: strings.Join(r.Errors, "; ")}
	}
	programmed := condition{Type: ConditionProgrammed, Status: "True", Reason: "Served",
		Message: fmt.Sprintf("generation %d is served", r.Ref.Generation)}
	if !r.Programmed() {
		served := "no generation of it is served"
		if r.Served > 0 {
			served = fmt.Sprintf("generation %d is still served", r.Served)
		}
		var blocking []string
		for _, b := range out.Blocking {
			if b != r.Ref.Ref() {
				blocking = append(blocking, b)
			}
		}
		why := "the configuration is held back by errors"
		switch {
		case !r.Accepted() && len(blocking) == 0:
			why = "the configuration is held back by this object's errors"
		case len(blocking) > 0:
			why = "the configuration is held back by errors in " + strings.Join(blocking, ", ")
		case len(out.Global) > 0:
			why = "the configuration is held back: " + strings.Join(out.Global, "; ")
		}
		programmed = condition{Type: ConditionProgrammed, Status: "False", Reason: "HeldBack",
			Message: why + "; trustgate keeps serving the last good configuration, in which " + served}
	}
	return []condition{accepted, programmed}
}

// mergeConditions replaces trustgate's conditions in the current list,
// keeping every other condition and the transition time of a condition
// whose status did not change.
func mergeConditions(current any, prefix string, conds []condition, gen int64, now time.Time) []any {
	var out []any
	old := map[string]map[string]any{}
	list, _ := current.([]any)
	for _, c := range list {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		t, _ := m["type"].(string)
		if isOurs(t, prefix) {
			old[t] = m
			continue
		}
		out = append(out, c)
	}
	for _, c := range conds {
		typ := prefix + c.Type
		m := map[string]any{
			"type": typ, "status": c.Status, "reason": c.Reason, "message": truncate(c.Message),
			"observedGeneration": gen, "lastTransitionTime": now.UTC().Format(time.RFC3339),
		}
		if prev, ok := old[typ]; ok && prev["status"] == c.Status {
			if t, ok := prev["lastTransitionTime"]; ok {
				m["lastTransitionTime"] = t
			}
		}
		out = append(out, m)
	}
	return out
}

func isOurs(t, prefix string) bool {
	return t == prefix+ConditionAccepted || t == prefix+ConditionProgrammed
}

// mergeMessages replaces trustgate's entries in an Istio object's
// validationMessages, keeping Istio's own.
func mergeMessages(current any, r ObjectResult) []any {
	var out []any
	list, _ := current.([]any)
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			if t, ok := m["type"].(map[string]any); ok && (t["code"] == codeError || t["code"] == codeWarning) {
				continue
			}
		}
		out = append(out, v)
	}
	for _, e := range r.Errors {
		out = append(out, message(codeError, "TrustgateError", "ERROR", e))
	}
	for _, w := range r.Warnings {
		out = append(out, message(codeWarning, "TrustgateWarning", "WARNING", w))
	}
	if out == nil {
		out = []any{}
	}
	return out
}

// message is one validationMessages entry: Istio's AnalysisMessageBase
// (type, level) plus the text, which Istio keeps in its analyzers' output
// and trustgate puts here (Istio's CRDs preserve unknown status fields).
func message(code, name, level, text string) map[string]any {
	return map[string]any{"type": map[string]any{"code": code, "name": name}, "level": level, "message": truncate(text)}
}

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage-3] + "..."
}

// writeStatuses writes the status of every object of the outcome whose
// status differs, and an Event for each object whose errors or warnings
// changed.
func (s *Source) writeStatuses(ctx context.Context, out *Outcome, reported map[string]string) {
	for _, r := range out.Objects {
		if ctx.Err() != nil {
			return
		}
		u := s.cached(r.Ref)
		if u == nil || u.GetGeneration() != r.Ref.Generation {
			continue // changed since the load; the next load reports it
		}
		if err := s.writeStatus(ctx, u, r, out); err != nil {
			s.log.Warn("writing status", "object", r.Ref.Ref(), "error", err)
		}
		s.eventOnChange(ctx, u, reported, findings{r.Ref.Ref() + "/errors", "Invalid", r.Errors})
		s.eventOnChange(ctx, u, reported, findings{r.Ref.Ref() + "/warnings", "ConfigurationWarning", r.Warnings})
	}
}

// writeStatus updates u's status subresource, retrying on conflicts with
// the object read again.
func (s *Source) writeStatus(ctx context.Context, u *unstructured.Unstructured, r ObjectResult, out *Outcome) error {
	ri := s.dynamic.Resource(r.Ref.Kind.GVR).Namespace(r.Ref.Namespace)
	for attempt := 0; ; attempt++ {
		current, _, err := unstructured.NestedMap(u.Object, "status")
		if err != nil {
			current = map[string]any{}
		}
		want := desiredStatus(current, r, out, time.Now())
		if sameStatus(current, want) {
			return nil
		}
		next := u.DeepCopy()
		if err := unstructured.SetNestedField(next.Object, want, "status"); err != nil {
			return err
		}
		_, err = ri.UpdateStatus(ctx, next, metav1.UpdateOptions{FieldManager: "trustgate"})
		if err == nil || !apierrors.IsConflict(err) || attempt == 2 {
			return err
		}
		if u, err = ri.Get(ctx, r.Ref.Name, metav1.GetOptions{}); err != nil {
			return err
		}
		if u.GetGeneration() != r.Ref.Generation {
			return nil // a newer generation: the next load reports it
		}
	}
}

// sameStatus compares two statuses after a JSON round trip would make
// their numbers alike (int64 written, float64 or int64 read).
func sameStatus(a, b map[string]any) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = normalize(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = normalize(e)
		}
		return l
	case int64:
		return float64(x)
	case int:
		return float64(x)
	}
	return v
}

// cached returns the object of ref from the informer cache.
func (s *Source) cached(ref objectRef) *unstructured.Unstructured {
	for _, inf := range s.objects[ref.Kind.GVR.String()] {
		o, ok, err := inf.GetStore().GetByKey(ref.Namespace + "/" + ref.Name)
		if err == nil && ok {
			if u, ok := o.(*unstructured.Unstructured); ok {
				return u
			}
		}
	}
	return nil
}

// findings are an object's errors or warnings, with the key they are
// remembered under and the Event reason that reports them.
type findings struct {
	key, reason string
	list        []string
}

// eventOnChange records an Event when an object's findings of one kind
// changed since the last one reported, and are not none.
func (s *Source) eventOnChange(ctx context.Context, u *unstructured.Unstructured, reported map[string]string, f findings) {
	msg := strings.Join(f.list, "; ")
	if msg != "" && reported[f.key] != msg {
		s.event(ctx, u, f.reason, msg)
	}
	reported[f.key] = msg
}
