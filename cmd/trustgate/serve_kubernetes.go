package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/trustgate/trustgate/model"
	kube "github.com/trustgate/trustgate/source/kubernetes"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/xdstls"
)

// kubeFlags select the Kubernetes API as the configuration source.
type kubeFlags struct {
	enabled        bool
	kubeconfig     string
	namespaces     listFlag
	secretSelector string
	webhookAddr    string
	webhookCert    string
	webhookKey     string
	status         bool
	leaseName      string
	leaseNamespace string
	identity       string
}

func (k *kubeFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&k.enabled, "kubernetes", false, "read the configuration from the Kubernetes API instead of --config (in-cluster, or --kubeconfig)")
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` (default: in-cluster service account)")
	fs.Var(&k.namespaces, "namespaces", "`NS` to watch (repeatable or comma-separated; default all)")
	fs.StringVar(&k.secretSelector, "secret-selector", "", "label `SELECTOR` of the Secrets trustgate may read (default all in the watched namespaces)")
	fs.StringVar(&k.webhookAddr, "webhook-addr", "", "HTTPS `address` of the validating admission webhook (with --webhook-cert and --webhook-key)")
	fs.StringVar(&k.webhookCert, "webhook-cert", "", "webhook certificate `FILE` (reloaded on change)")
	fs.StringVar(&k.webhookKey, "webhook-key", "", "webhook private key `FILE`")
	fs.BoolVar(&k.status, "status", true, "write each object's status (one replica, elected with a Lease)")
	fs.StringVar(&k.leaseName, "lease-name", "trustgate-status", "`NAME` of the status writer's coordination.k8s.io Lease")
	fs.StringVar(&k.leaseNamespace, "lease-namespace", "", "`NS` of the Lease (default $POD_NAMESPACE, else the service account's namespace)")
	fs.StringVar(&k.identity, "identity", "", "this replica's `NAME` in the Lease (default $POD_NAME, else the host name)")
	_ = cmd.MarkFlagFilename("kubeconfig") // completion hints; the flags exist
	_ = cmd.MarkFlagFilename("webhook-cert")
	_ = cmd.MarkFlagFilename("webhook-key")
}

// check rejects flags that do not go together; args are the
// configuration paths given as arguments.
func (k *kubeFlags) check(cf *configFlags, cmd *cobra.Command, args []string) error {
	if !k.enabled {
		if k.kubeconfig != "" || len(k.namespaces) > 0 || k.webhookAddr != "" {
			return errors.New("--kubeconfig, --namespaces and --webhook-addr need --kubernetes")
		}
		return nil
	}
	if len(cf.paths) > 0 || len(args) > 0 || len(cf.secretsDirs) > 0 {
		return errors.New("--kubernetes reads the configuration from the API: drop --config, configuration paths and --secrets-dir")
	}
	if cmd.Flags().Changed("short-names") && cf.shortNames != string(model.ShortNamesKubernetes) {
		return errors.New("--kubernetes reads short names by Istio's rule (--short-names kubernetes), with --cluster-domain")
	}
	if (k.webhookAddr != "") != (k.webhookCert != "" && k.webhookKey != "") {
		return errors.New("--webhook-addr, --webhook-cert and --webhook-key go together: the API server calls webhooks over TLS only")
	}
	return nil
}

// start starts the Kubernetes source (its caches filled), the status
// writer and the webhook, and returns the source for the server; done
// stops the writer (releasing the Lease) and the webhook.
func (k *kubeFlags) start(ctx context.Context, clusterDomain string, debounce time.Duration, crls *crlWatch, log *slog.Logger) (server.Source, func(), error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", k.kubeconfig)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client: %w", err)
	}
	cfg.UserAgent = "trustgate"
	src, err := kube.New(cfg, kube.Options{
		Namespaces: k.namespaces, SecretSelector: k.secretSelector, ClusterDomain: clusterDomain, Debounce: debounce, Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	if err := src.Start(ctx); err != nil {
		return nil, nil, err
	}
	var so kube.StatusOptions
	if k.status {
		if so, err = k.statusOptions(); err != nil {
			return nil, nil, err
		}
	}
	stopWebhook := func() {}
	if k.webhookAddr != "" {
		if stopWebhook, err = serveWebhook(k.webhookAddr, k.webhookCert, k.webhookKey, src.Webhook(), log); err != nil {
			return nil, nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if k.status {
		wg.Go(func() {
			if err := src.RunStatus(ctx, so); err != nil {
				log.Error("status writer stopped", "error", err)
			}
		})
	}
	done := func() {
		cancel()
		wg.Wait()
		stopWebhook()
	}
	return &kubeSource{Source: src, load: crls.wrap(logWarnings(src.Load, log))}, done, nil
}

// kubeSource is the Kubernetes source with serve's loader around its Load:
// warnings logged, CRLs watched as time passes.
type kubeSource struct {
	*kube.Source
	load server.Loader
}

func (k *kubeSource) Load() (server.Config, error) { return k.load() }

// logWarnings logs a loaded configuration's warnings, as the file loader does.
func logWarnings(load server.Loader, log *slog.Logger) server.Loader {
	return func() (server.Config, error) {
		cfg, err := load()
		if err != nil {
			return nil, err
		}
		if w, ok := cfg.(interface{ Warnings() []string }); ok {
			for _, msg := range w.Warnings() {
				log.Warn("configuration warning", "warning", msg)
			}
		}
		return cfg, nil
	}
}

func (k *kubeFlags) statusOptions() (kube.StatusOptions, error) {
	ns := k.leaseNamespace
	if ns == "" {
		ns = os.Getenv("POD_NAMESPACE")
	}
	if ns == "" {
		b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
		if err != nil {
			return kube.StatusOptions{}, errors.New("--lease-namespace is required outside a pod (or --status=false)")
		}
		ns = strings.TrimSpace(string(b))
	}
	id := k.identity
	if id == "" {
		id = os.Getenv("POD_NAME")
	}
	if id == "" {
		h, err := os.Hostname()
		if err != nil {
			return kube.StatusOptions{}, fmt.Errorf("--identity: %w", err)
		}
		id = h
	}
	return kube.StatusOptions{Identity: id, LeaseNamespace: ns, LeaseName: k.leaseName}, nil
}

// serveWebhook serves the admission webhook over TLS, reading the
// certificate again when its files change (cert-manager rotates them).
func serveWebhook(addr, certFile, keyFile string, h http.Handler, log *slog.Logger) (func(), error) {
	kp, err := xdstls.NewKeyPair("admission webhook certificate", certFile, keyFile, log)
	if err != nil {
		return nil, fmt.Errorf("webhook certificate: %w", err)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(kube.WebhookPath, h)
	srv := &http.Server{
		Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: kp.GetCertificate},
	}
	go func() {
		if err := srv.ServeTLS(lis, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("webhook server stopped", "error", err)
		}
	}()
	log.Info("serving the admission webhook", "addr", lis.Addr().String(), "path", kube.WebhookPath)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("webhook server shutdown", "error", err)
		}
	}, nil
}
