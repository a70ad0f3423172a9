package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// The API's typed objects this package reads or writes (Services,
// EndpointSlices, Secrets, Events, Leases) go through REST clients of their
// group versions with a scheme of those three groups alone. client-go's typed
// clients would do the same with its scheme of every API group, and its
// informer factories and leader election link every generated client,
// lister and informer: 487 of the binary's 932 packages, about 10 ms of
// every start of the binary, `translate` included (docs/performance.md,
// "Sitting F"). internal/layers keeps them out.
var typed = sync.OnceValue(newTypedCodecs)

// typedCodecs are the scheme of the typed groups, its codec factory, and
// the parameter codec that puts list, get and create options into query
// parameters. Made on first use: a command that never reaches the API
// does not register the groups at start.
type typedCodecs struct {
	scheme *runtime.Scheme
	codecs serializer.CodecFactory
	params runtime.ParameterCodec
}

func newTypedCodecs() typedCodecs {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, discoveryv1.AddToScheme, coordinationv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err) // registering generated types cannot fail
		}
	}
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return typedCodecs{scheme: s, codecs: serializer.NewCodecFactory(s), params: runtime.NewParameterCodec(s)}
}

// coordinationGV is the Lease's group version.
var coordinationGV = coordinationv1.SchemeGroupVersion

// restFor is a REST client of one group version: apiPath "/api" for the
// core group, "/apis" for the others.
func restFor(cfg *rest.Config, gv schema.GroupVersion, apiPath string) (*rest.RESTClient, error) {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &gv
	c.APIPath = apiPath
	c.NegotiatedSerializer = rest.CodecFactoryForGeneratedClient(typed().scheme, typed().codecs).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	return rest.RESTClientFor(c)
}

// serverResources is the API server's list of the resources of a group
// version (GET /apis/GROUP/VERSION); a group version it does not serve is a
// NotFound error.
func serverResources(ctx context.Context, c *rest.RESTClient, groupVersion string) (*metav1.APIResourceList, error) {
	raw, err := c.Get().AbsPath("/apis/" + groupVersion).Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	list := &metav1.APIResourceList{}
	if err := json.Unmarshal(raw, list); err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", groupVersion, err)
	}
	return list, nil
}

// dynamicInformer watches one resource of one namespace (all: "") as
// unstructured objects, as client-go's dynamicinformer does without its
// factory.
func dynamicInformer(c dynamic.Interface, gvr schema.GroupVersionResource, ns string) cache.SharedIndexInformer {
	r := c.Resource(gvr).Namespace(ns)
	return newInformer(listWatch(r.List, r.Watch, ""), &unstructured.Unstructured{}, gvr)
}

// metadataInformer watches the metadata of one resource of one namespace,
// narrowed by a label selector, as client-go's metadatainformer does.
func metadataInformer(c metadata.Interface, gvr schema.GroupVersionResource, ns, selector string) cache.SharedIndexInformer {
	r := c.Resource(gvr).Namespace(ns)
	return newInformer(listWatch(r.List, r.Watch, selector), &metav1.PartialObjectMetadata{}, gvr)
}

// listWatch lists and watches with a client's List and Watch, narrowed by a
// label selector ("": none).
func listWatch[L runtime.Object](list func(context.Context, metav1.ListOptions) (L, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error), selector string) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return list(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return watchFn(ctx, o)
		},
	}
}

// typedInformer watches one resource of one namespace of a typed group.
func typedInformer(c *rest.RESTClient, gvr schema.GroupVersionResource, ns string, obj runtime.Object) cache.SharedIndexInformer {
	return newInformer(cache.NewListWatchFromClient(c, gvr.Resource, ns, fields.Everything()), obj, gvr)
}

func newInformer(lw cache.ListerWatcher, obj runtime.Object, gvr schema.GroupVersionResource) cache.SharedIndexInformer {
	return cache.NewSharedIndexInformerWithOptions(lw, obj, cache.SharedIndexInformerOptions{
		Indexers:          cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc},
		ObjectDescription: gvr.String(),
	})
}
