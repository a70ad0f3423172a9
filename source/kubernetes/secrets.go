package kubernetes

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/trustgate/trustgate/model"
)

var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// secretKeys are the only keys kept of a Secret read from the API: those
// trustgate reads (model's Key* constants). Other keys (a database
// password kept beside a certificate, say) never enter trustgate's memory
// beyond the read itself.
var secretKeys = []string{
	model.KeyCert, model.KeyKey, model.KeyTLSCert, model.KeyTLSKey,
	model.KeyCACert, model.KeyCACrt, model.KeyCRL, model.KeyCACrl,
}

// secretRetry is how long after a failed Secret read the source tries
// again.
const secretRetry = 5 * time.Second

// secretCache holds the documents of the Secrets read, by namespace/name,
// with the resourceVersion they were read at.
type secretCache map[nsName]cachedSecret

type cachedSecret struct {
	resourceVersion string
	doc             []byte
}

// readSecrets returns the Secrets w references that the metadata informer
// sees (the namespace and label selectors apply), reading the data of each
// only when its resourceVersion changed since the last read.
func (s *Source) readSecrets(ctx context.Context, w wanted) ([]*model.Secret, error) {
	type hit struct {
		key nsName
		rv  string
	}
	var hits []hit
	for _, inf := range s.secrets {
		for _, o := range inf.GetStore().List() {
			meta, ok := o.(*metav1.PartialObjectMetadata)
			if ok && w.secret(meta.Namespace, meta.Name) {
				hits = append(hits, hit{nsName{meta.Namespace, meta.Name}, meta.ResourceVersion})
			}
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(a.key.Namespace, b.key.Namespace), cmp.Compare(a.key.Name, b.key.Name))
	})
	s.mu.Lock()
	old := s.data
	s.mu.Unlock()
	next := secretCache{}
	docs := make([][]byte, 0, len(hits))
	for _, h := range hits {
		if c, ok := old[h.key]; ok && c.resourceVersion == h.rv {
			next[h.key] = c
			docs = append(docs, c.doc)
			continue
		}
		sec := &corev1.Secret{}
		err := s.core.Get().Namespace(h.key.Namespace).Resource("secrets").Name(h.key.Name).
			VersionedParams(&metav1.GetOptions{}, typed().params).Do(ctx).Into(sec)
		switch {
		case apierrors.IsNotFound(err):
			continue // deleted since the informer saw it; its event follows
		case err != nil:
			time.AfterFunc(secretRetry, s.changed)
			return nil, fmt.Errorf("reading Secret %s/%s: %w (retrying in %s)", h.key.Namespace, h.key.Name, err, secretRetry)
		}
		doc, err := secretDocument(sec)
		if err != nil {
			return nil, err
		}
		next[h.key] = cachedSecret{resourceVersion: sec.ResourceVersion, doc: doc}
		docs = append(docs, doc)
	}
	s.mu.Lock()
	s.data = next // Secrets no longer referenced are forgotten
	s.mu.Unlock()
	return secretDocuments(docs)
}

// secretDocument is a Secret as the model decodes it, with only the keys
// trustgate reads.
func secretDocument(sec *corev1.Secret) ([]byte, error) {
	data := map[string]string{}
	for _, k := range secretKeys {
		if v, ok := sec.Data[k]; ok {
			data[k] = base64.StdEncoding.EncodeToString(v)
		}
	}
	return json.Marshal(map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   map[string]any{"name": sec.Name, "namespace": sec.Namespace},
		"type":       string(sec.Type),
		"data":       data,
	})
}
