package kubernetes

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

// secretReadTimeout bounds the reads of referenced Secrets in one load.
const secretReadTimeout = 20 * time.Second

// objectRef identifies a configuration object and the generation read.
type objectRef struct {
	Kind       servedKind
	Namespace  string
	Name       string
	Generation int64
}

// Ref is "Kind namespace/name", as the model names objects in errors.
func (r objectRef) Ref() string { return fmt.Sprintf("%s %s/%s", r.Kind.Kind, r.Namespace, r.Name) }

// listObjects returns every configuration object in the informer caches,
// in kind order, then by namespace and name, so every replica builds the
// same configuration from the same objects.
func (s *Source) listObjects() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, k := range s.kinds {
		var objs []*unstructured.Unstructured
		for _, inf := range s.objects[k.GVR.String()] {
			for _, o := range inf.GetStore().List() {
				if u, ok := o.(*unstructured.Unstructured); ok {
					objs = append(objs, u)
				}
			}
		}
		slices.SortFunc(objs, func(a, b *unstructured.Unstructured) int {
			return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName()))
		})
		out = append(out, objs...)
	}
	return out
}

// refOf identifies u, which must be of a served kind.
func (s *Source) refOf(u *unstructured.Unstructured) (objectRef, bool) {
	gvk := u.GroupVersionKind()
	for _, k := range s.kinds {
		if k.Group == gvk.Group && k.Kind == gvk.Kind {
			return objectRef{Kind: k, Namespace: u.GetNamespace(), Name: u.GetName(), Generation: u.GetGeneration()}, true
		}
	}
	return objectRef{}, false
}

// document is what the model decodes of an object: apiVersion, kind, the
// metadata it reads, and spec. Status and server-set metadata are left out.
func document(u *unstructured.Unstructured) ([]byte, error) {
	doc := map[string]any{
		"apiVersion": u.GetAPIVersion(),
		"kind":       u.GetKind(),
		"metadata":   documentMeta(u),
	}
	if spec, ok := u.Object["spec"]; ok {
		doc["spec"] = spec
	}
	return json.Marshal(doc)
}

func documentMeta(u *unstructured.Unstructured) map[string]any {
	meta := map[string]any{"name": u.GetName(), "namespace": u.GetNamespace()}
	if l := u.GetLabels(); len(l) > 0 {
		meta["labels"] = l
	}
	if a := u.GetAnnotations(); len(a) > 0 {
		// kubectl's last-applied copy of the whole object is not
		// configuration; leaving it out keeps the model's input small.
		delete(a, "kubectl.kubernetes.io/last-applied-configuration")
		if len(a) > 0 {
			meta["annotations"] = a
		}
	}
	return meta
}

// evaluation is one configuration built from a set of objects.
type evaluation struct {
	objects []objectRef
	wanted  wanted
	cfg     *compile.Config
	err     error
}

// load builds the configuration from the informer caches and records its
// outcome for the status writer.
func (s *Source) load() (*compile.Config, error) {
	ctx, cancel := context.WithTimeout(context.Background(), secretReadTimeout)
	defer cancel()
	ev := s.evaluate(ctx, s.listObjects(), append([]compile.Option{compile.ForServe(), compile.WithCache(s.compiled)}, s.opts.Pipeline...))
	if ev.wanted.secrets != nil {
		s.mu.Lock()
		s.wanted = ev.wanted
		s.mu.Unlock()
	}
	s.record(ev)
	return ev.cfg, ev.err
}

// evaluate decodes objs, adds the Secrets and Services they reference, and
// runs the pipeline.
func (s *Source) evaluate(ctx context.Context, objs []*unstructured.Unstructured, opts []compile.Option) evaluation {
	var ev evaluation
	docs := make([][]byte, 0, len(objs))
	for _, u := range objs {
		ref, ok := s.refOf(u)
		if !ok {
			continue
		}
		doc, err := document(u)
		if err != nil {
			ev.err = fmt.Errorf("%s: %w", ref.Ref(), err)
			return ev
		}
		ev.objects = append(ev.objects, ref)
		docs = append(docs, doc)
	}
	// An object that does not decode stops nothing: the others are still
	// validated, and every error is reported (FromModel).
	m, loadErr := model.LoadDocuments(docs)
	// Istio's short-name rule, applied by the IR (model.ResolveShortNames).
	m.ShortNames, m.ClusterDomain = model.ShortNamesKubernetes, s.opts.ClusterDomain
	w := referenced(m.ResolveShortNames(), s.opts.ClusterDomain)
	ev.wanted = w
	secrets, err := s.readSecrets(ctx, w)
	if err != nil {
		ev.err = err
		return ev
	}
	m.Secrets = append(m.Secrets, secrets...)
	m.ServiceEntries = append(m.ServiceEntries, s.serviceEntries(w)...)
	ev.cfg, ev.err = compile.FromModel(m, loadErr, opts...)
	return ev
}

// secretDocuments decodes Secrets read from the API into the model.
func secretDocuments(docs [][]byte) ([]*model.Secret, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	m, err := model.LoadDocuments(docs)
	if err != nil {
		return nil, err
	}
	return m.Secrets, nil
}
