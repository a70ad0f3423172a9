package kubernetes

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/trustgate/trustgate/model"
)

// kind is one kind of configuration object trustgate reads from the API.
type kind struct {
	Group, Kind, Resource string
	// Versions in order of preference; the first one served is watched
	// (the API server converts: Istio's versions share one schema).
	Versions []string
	// Istio marks Istio's kinds, whose status takes Istio's shape.
	Istio bool
}

// kinds are read in this order, which is also the configuration order the
// model sees (the first ServiceEntry listing a host wins, for instance).
var kinds = []kind{
	{Group: "networking.istio.io", Kind: "Gateway", Resource: "gateways", Versions: istioNetworking, Istio: true},
	{Group: "networking.istio.io", Kind: "VirtualService", Resource: "virtualservices", Versions: istioNetworking, Istio: true},
	{Group: "networking.istio.io", Kind: "DestinationRule", Resource: "destinationrules", Versions: istioNetworking, Istio: true},
	{Group: "networking.istio.io", Kind: "ServiceEntry", Resource: "serviceentries", Versions: istioNetworking, Istio: true},
	{Group: "security.istio.io", Kind: "AuthorizationPolicy", Resource: "authorizationpolicies", Versions: []string{"v1", "v1beta1"}, Istio: true},
	{Group: TrustgateGroup, Kind: "ClientCertificatePolicy", Resource: "clientcertificatepolicies", Versions: []string{TrustgateVersion}},
}

var istioNetworking = []string{"v1", "v1beta1", "v1alpha3"}

// TrustgateGroup and TrustgateVersion are the API group and version of
// trustgate's own kind (model.TrustgateAPIVersion).
const (
	TrustgateGroup   = "trustgate.dev"
	TrustgateVersion = "v1alpha1"
)

var _ = func() bool { // the model and this package agree on the version
	if TrustgateGroup+"/"+TrustgateVersion != model.TrustgateAPIVersion {
		panic("source/kubernetes: TrustgateGroup/TrustgateVersion differ from model.TrustgateAPIVersion")
	}
	return true
}()

// servedKind is a kind with the version the API server serves.
type servedKind struct {
	kind
	GVR schema.GroupVersionResource
}

// discover returns the kinds the API server serves, each at its preferred
// version, and the kinds it does not serve (their CRD is not installed).
func discover(resources func(groupVersion string) (*metav1.APIResourceList, error)) (served []servedKind, missing []string, err error) {
	cache := map[string]map[string]bool{} // group/version -> resources
	for _, kd := range kinds {
		found := false
		for _, v := range kd.Versions {
			gv := kd.Group + "/" + v
			res, ok := cache[gv]
			if !ok {
				res = map[string]bool{}
				list, err := resources(gv)
				switch {
				case apierrors.IsNotFound(err):
				case err != nil:
					return nil, nil, fmt.Errorf("discovering %s: %w", gv, err)
				default:
					for _, r := range list.APIResources {
						res[r.Name] = true
					}
				}
				cache[gv] = res
			}
			if res[kd.Resource] {
				served = append(served, servedKind{kind: kd, GVR: schema.GroupVersionResource{Group: kd.Group, Version: v, Resource: kd.Resource}})
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%s.%s", kd.Resource, kd.Group))
		}
	}
	if len(served) == 0 {
		return nil, missing, errors.New("the API server serves none of trustgate's kinds: install Istio's CRDs (or the chart's istioCRDs) and trustgate's ClientCertificatePolicy CRD")
	}
	return served, missing, nil
}
