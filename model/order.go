package model

import (
	"strings"
	"time"
)

// CreationTime is the object's metadata.creationTimestamp; the zero time
// when it has none (or one that Validate reports as invalid).
func (o *Object) CreationTime() time.Time {
	if o.Metadata.CreationTimestamp == "" {
		return time.Time{} // what a failed Parse gives, without its error's allocations (most objects from files)
	}
	t, err := time.Parse(time.RFC3339, o.Metadata.CreationTimestamp)
	if err != nil {
		return time.Time{}
	}
	return t
}

// CompareCreation orders two objects as Istio orders configuration where
// the older one wins (VirtualServices merged for one gateway host, the tcp
// route of a server): by creation time, then by name, then by namespace
// (configCompareByCreationTime in istio/istio pilot/pkg/model/config.go).
//
// Files have no creation time of their own. An object without
// metadata.creationTimestamp counts as created at the zero time, as in
// Istio, whose config.Config then holds the zero time.Time: it comes before
// every object that has one, and objects without one are ordered by name,
// then namespace. That is the order Istio gives the same YAML applied in one
// `kubectl apply` (Kubernetes stores timestamps in whole seconds, so the
// objects tie and the names decide). It does not depend on file names or
// document order, so splitting or renaming files never changes routing.
func CompareCreation(a, b *Object) int {
	if c := a.CreationTime().Compare(b.CreationTime()); c != 0 {
		return c
	}
	if c := strings.Compare(a.Metadata.Name, b.Metadata.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Metadata.Namespace, b.Metadata.Namespace)
}

// OrderNote says, for messages, what "earlier" means between two objects.
const OrderNote = "Istio's order: creationTimestamp, then name, then namespace"
