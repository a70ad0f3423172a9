package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/server"
)

// Defaults of Options.
const (
	DefaultDebounce      = 200 * time.Millisecond
	DefaultClusterDomain = model.DefaultClusterDomain
)

// Options configure a Source.
type Options struct {
	// Namespaces to watch; none means all.
	Namespaces []string
	// SecretSelector is a label selector narrowing the Secrets trustgate
	// may read ("" for all in the watched namespaces).
	SecretSelector string
	// Debounce is how long events must stay quiet before a reload; a burst
	// of events (an `kubectl apply -f dir`, a GitOps sync) is one reload.
	Debounce time.Duration
	// ClusterDomain is the cluster's DNS domain, for short names.
	ClusterDomain string
	// Pipeline options for every load (ForServe is added).
	Pipeline []compile.Option
	Logger   *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.ClusterDomain == "" {
		o.ClusterDomain = DefaultClusterDomain
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if len(o.Namespaces) == 0 {
		o.Namespaces = []string{metav1.NamespaceAll}
	}
	return o
}

// Source reads the configuration from the Kubernetes API.
type Source struct {
	opts Options
	log  *slog.Logger
	// REST clients of the typed groups read and written (clients.go): core
	// (also asked for discovery), discovery.k8s.io, coordination.k8s.io.
	core      *rest.RESTClient
	coord     *rest.RESTClient
	slices    *rest.RESTClient
	dynamic   dynamic.Interface
	metadata  metadata.Interface
	secretSel labels.Selector

	kinds     []servedKind
	objects   map[string][]cache.SharedIndexInformer // GVR string -> one informer per namespace
	secrets   []cache.SharedIndexInformer            // metadata only
	services  []cache.SharedIndexInformer            // per namespace
	endpoints []cache.SharedIndexInformer            // EndpointSlices, per namespace

	changes chan struct{} // one pending change, coalesced
	// compiled keeps what each load computed, keyed by content, for the
	// next (compile.Cache): the server's loads only, not the webhook's
	// trial evaluations, which would only turn its generations over.
	compiled *compile.Cache

	mu      sync.Mutex
	wanted  wanted      // what the last load referenced
	data    secretCache // secret data read, by namespace/name and resourceVersion
	outcome *Outcome    // of the last load
	notify  []chan struct{}
}

// New connects the clients; nothing is watched until Start.
func New(cfg *rest.Config, opts Options) (*Source, error) {
	opts = opts.withDefaults()
	sel, err := labels.Parse(opts.SecretSelector)
	if err != nil {
		return nil, fmt.Errorf("secret label selector %q: %w", opts.SecretSelector, err)
	}
	core, err := restFor(cfg, corev1.SchemeGroupVersion, "/api")
	if err != nil {
		return nil, err
	}
	coord, err := restFor(cfg, coordinationGV, "/apis")
	if err != nil {
		return nil, err
	}
	slices, err := restFor(cfg, discoveryv1.SchemeGroupVersion, "/apis")
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Source{
		opts: opts, log: opts.Logger, core: core, coord: coord, slices: slices,
		dynamic: dyn, metadata: meta, secretSel: sel,
		objects: map[string][]cache.SharedIndexInformer{}, changes: make(chan struct{}, 1),
		data: secretCache{}, outcome: &Outcome{}, compiled: compile.NewCache(),
	}, nil
}

// Start discovers the served kinds, starts the informers and waits until
// their caches are filled, so the first load sees every object.
func (s *Source) Start(ctx context.Context) error {
	served, missing, err := discover(func(gv string) (*metav1.APIResourceList, error) { return serverResources(ctx, s.core, gv) })
	if err != nil {
		return err
	}
	for _, m := range missing {
		s.log.Warn("kind not served by the API server; objects of it are not read (restart trustgate after installing its CRD)", "resource", m)
	}
	s.kinds = served
	var synced []cache.InformerSynced
	for _, ns := range s.opts.Namespaces {
		var started []cache.SharedIndexInformer
		for _, k := range served {
			inf := dynamicInformer(s.dynamic, k.GVR, ns)
			if _, err := inf.AddEventHandler(s.objectHandler()); err != nil {
				return err
			}
			s.objects[k.GVR.String()] = append(s.objects[k.GVR.String()], inf)
			started = append(started, inf)
		}
		sec := metadataInformer(s.metadata, secretsGVR, ns, s.secretSel.String())
		if _, err := sec.AddEventHandler(s.secretHandler()); err != nil {
			return err
		}
		s.secrets = append(s.secrets, sec)
		started = append(started, sec)

		svc := typedInformer(s.core, corev1.SchemeGroupVersion.WithResource("services"), ns, &corev1.Service{})
		eps := typedInformer(s.slices, discoveryv1.SchemeGroupVersion.WithResource("endpointslices"), ns, &discoveryv1.EndpointSlice{})
		for _, inf := range []cache.SharedIndexInformer{svc, eps} {
			if _, err := inf.AddEventHandler(s.serviceHandler()); err != nil {
				return err
			}
			started = append(started, inf)
		}
		s.services = append(s.services, svc)
		s.endpoints = append(s.endpoints, eps)
		for _, inf := range started {
			synced = append(synced, inf.HasSynced)
			go inf.RunWithContext(ctx)
		}
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return errors.New("kubernetes: informer caches did not sync before shutdown")
	}
	s.log.Info("kubernetes source synced", "kinds", len(served), "namespaces", s.opts.Namespaces)
	return nil
}

// changed records that the configuration may have changed; Watch reloads.
func (s *Source) changed() {
	select {
	case s.changes <- struct{}{}:
	default: // one is pending already
	}
}

// Watch calls reload after changes until ctx ends (server.Source): once
// the events have been quiet for the debounce time, or at the latest ten
// debounce times after the first, so a burst of events is one reload and a
// stream of them still gets loaded. It returns nil when ctx ends.
func (s *Source) Watch(ctx context.Context, reload func()) error {
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	var first time.Time
	for {
		select {
		case <-ctx.Done():
			quiet.Stop()
			return nil
		case <-s.changes:
			now := time.Now()
			if first.IsZero() {
				first = now
			}
			wait := s.opts.Debounce
			if limit := first.Add(10 * s.opts.Debounce).Sub(now); limit < wait {
				wait = max(limit, 0)
			}
			quiet.Reset(wait)
		case <-quiet.C:
			first = time.Time{}
			reload()
		}
	}
}

// Load builds the configuration from the informer caches (server.Source)
// and records its outcome for the status writer.
func (s *Source) Load() (server.Config, error) {
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

var _ server.Source = (*Source)(nil)
