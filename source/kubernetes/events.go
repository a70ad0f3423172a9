package kubernetes

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

// objectHandler reloads on every added or deleted configuration object,
// and on updates that change its spec (generation) or metadata the model
// reads; status updates, trustgate's own included, are ignored.
func (s *Source) objectHandler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.changed() },
		DeleteFunc: func(any) { s.changed() },
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*unstructured.Unstructured)
			n, ok2 := newObj.(*unstructured.Unstructured)
			if !ok1 || !ok2 || o.GetGeneration() != n.GetGeneration() ||
				!reflect.DeepEqual(o.GetLabels(), n.GetLabels()) || !reflect.DeepEqual(o.GetAnnotations(), n.GetAnnotations()) {
				s.changed()
			}
		},
	}
}

// secretHandler reloads when a Secret the configuration references (or
// looked for) appears, changes or goes.
func (s *Source) secretHandler() cache.ResourceEventHandler {
	relevant := func(obj any) bool {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		m, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return true
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.wanted.secretNames[m.Name]
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { s.changedIf(relevant(o)) },
		DeleteFunc: func(o any) { s.changedIf(relevant(o)) },
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*metav1.PartialObjectMetadata)
			n, ok2 := newObj.(*metav1.PartialObjectMetadata)
			if ok1 && ok2 && o.ResourceVersion == n.ResourceVersion {
				return // a resync
			}
			s.changedIf(relevant(newObj))
		},
	}
}

// serviceHandler reloads when a Service or EndpointSlice of a Service the
// configuration routes to changes.
func (s *Source) serviceHandler() cache.ResourceEventHandler {
	relevant := func(obj any) bool {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		var ns, name string
		switch o := obj.(type) {
		case *corev1.Service:
			ns, name = o.Namespace, o.Name
		case *discoveryv1.EndpointSlice:
			ns, name = o.Namespace, o.Labels[discoveryv1.LabelServiceName]
		default:
			return true
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.wanted.service(ns, name)
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { s.changedIf(relevant(o)) },
		DeleteFunc: func(o any) { s.changedIf(relevant(o)) },
		UpdateFunc: func(_, n any) { s.changedIf(relevant(n)) },
	}
}

func (s *Source) changedIf(ok bool) {
	if ok {
		s.changed()
	}
}
