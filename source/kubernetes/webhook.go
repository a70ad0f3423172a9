package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// maxAdmissionBody bounds an AdmissionReview (etcd stores objects of at
// most 1.5 MiB; a review carries the object twice on updates).
const maxAdmissionBody = 8 << 20

// WebhookPath is where the validating webhook is served.
const WebhookPath = "/validate"

// Webhook is the validating admission webhook: it judges an object as
// `trustgate check` would (validation, translation and certificate
// diagnosis, with an expired CRL an error), together with the objects the
// API server holds, so kubectl and GitOps tools refuse a bad object with
// trustgate's own message.
//
// It refuses an object when an error names it, or when the change makes a
// new error appear on another object (a Gateway edit that leaves a
// ClientCertificatePolicy's sectionName dangling). A Secret that is not
// found is a warning only: GitOps tools and cert-manager create Secrets
// after the objects that name them, and the status reports it until the
// Secret exists.
func (s *Source) Webhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST an admission.k8s.io/v1 AdmissionReview", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxAdmissionBody+1))
		if err != nil || len(body) > maxAdmissionBody {
			http.Error(w, "cannot read the AdmissionReview", http.StatusRequestEntityTooLarge)
			return
		}
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
			http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
			return
		}
		resp := s.admit(r.Context(), review.Request)
		resp.UID = review.Request.UID
		review.Response, review.Request = resp, nil
		out, err := json.Marshal(review)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if _, err := w.Write(out); err != nil {
			s.log.Debug("writing admission response", "error", err)
		}
	})
}

// admit judges one request.
func (s *Source) admit(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	allow := &admissionv1.AdmissionResponse{Allowed: true}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return allow
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(req.Object.Raw); err != nil {
		return deny(fmt.Sprintf("trustgate: cannot decode the object: %v", err))
	}
	if u.GetNamespace() == "" {
		u.SetNamespace(req.Namespace)
	}
	ref, ok := s.refOf(u)
	if !ok {
		return allow // not a kind trustgate reads
	}
	ctx, cancel := context.WithTimeout(ctx, 8*time.Second) // the API server waits 10 s by default
	defer cancel()
	// check's judgement (no ForServe), of the cluster's objects with and
	// without this one: only what the change brings counts.
	current := s.listObjects()
	before := outcomeOf(s.evaluate(ctx, current, s.opts.Pipeline))
	after := outcomeOf(s.evaluate(ctx, withObject(current, u), s.opts.Pipeline))
	errs, warnings := judge(ref, before, after)
	resp := allow
	if len(errs) > 0 {
		resp = deny("trustgate: " + strings.Join(errs, "\n"))
	}
	resp.Warnings = warnings
	return resp
}

// judge returns the errors that refuse ref's object and the warnings to
// show: its own errors (missing Secrets as warnings), and the errors the
// change adds to other objects or to no object. Errors that were there
// before the change are not its fault.
func judge(ref objectRef, before, after *Outcome) (errs, warnings []string) {
	had := map[string][]string{}
	for _, o := range before.Objects {
		had[o.Ref.Ref()] = o.Errors
	}
	for _, o := range after.Objects {
		if o.Ref.Ref() == ref.Ref() {
			for _, e := range o.Errors {
				if slices.Contains(o.SecretNotFound, e) {
					warnings = append(warnings, ref.Ref()+": "+e)
					continue
				}
				errs = append(errs, ref.Ref()+": "+e)
			}
			for _, w := range o.Warnings {
				warnings = append(warnings, ref.Ref()+": "+w)
			}
			continue
		}
		for _, e := range o.Errors {
			if !slices.Contains(had[o.Ref.Ref()], e) && !slices.Contains(o.SecretNotFound, e) {
				errs = append(errs, fmt.Sprintf("this change breaks %s: %s", o.Ref.Ref(), e))
			}
		}
	}
	for _, g := range after.Global {
		if !slices.Contains(before.Global, g) {
			errs = append(errs, g)
		}
	}
	return errs, warnings
}

// withObject returns objs with u in place of the object of the same kind,
// namespace and name, or added.
func withObject(objs []*unstructured.Unstructured, u *unstructured.Unstructured) []*unstructured.Unstructured {
	gk := u.GroupVersionKind().GroupKind()
	out := make([]*unstructured.Unstructured, 0, len(objs)+1)
	replaced := false
	for _, o := range objs {
		if o.GroupVersionKind().GroupKind() == gk && o.GetNamespace() == u.GetNamespace() && o.GetName() == u.GetName() {
			out = append(out, u)
			replaced = true
			continue
		}
		out = append(out, o)
	}
	if !replaced {
		out = append(out, u)
	}
	return out
}

func deny(msg string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusUnprocessableEntity, Reason: metav1.StatusReasonInvalid, Message: msg,
	}}
}
