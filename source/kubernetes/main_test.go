package kubernetes_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/deploy"
	"github.com/trustgate/trustgate/internal/kubetest"
	kube "github.com/trustgate/trustgate/source/kubernetes"
	"github.com/trustgate/trustgate/xds/server"
)

// api is the API server every test shares (each in its own namespaces);
// nil when the binaries are absent, with skip saying why.
var (
	api  *kubetest.APIServer
	skip string
)

func TestMain(m *testing.M) {
	var err error
	api, err = kubetest.Start()
	if err != nil {
		if kubetest.Required() {
			fmt.Fprintln(os.Stderr, "source/kubernetes: TRUSTGATE_REQUIRE_KUBE is set and the API server did not start:", err)
			os.Exit(1)
		}
		skip = err.Error()
		fmt.Fprintln(os.Stderr, "source/kubernetes: Kubernetes tests skip:", skip)
		api = nil
	} else if err := setupCRDs(); err != nil {
		fmt.Fprintln(os.Stderr, "source/kubernetes: installing CRDs:", err)
		code := 1
		if serr := api.Stop(); serr != nil {
			fmt.Fprintln(os.Stderr, serr)
		}
		os.Exit(code)
	}
	code := m.Run()
	if api != nil {
		if err := api.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the API server:", err)
		}
	}
	os.Exit(code)
}

func setupCRDs() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := kubetest.Apply(ctx, api.Config, "", deploy.IstioCRDs()); err != nil {
		return err
	}
	return kubetest.Apply(ctx, api.Config, "", deploy.CRD())
}

// requireAPI skips the test when there is no API server.
func requireAPI(t *testing.T) *kubetest.APIServer {
	t.Helper()
	if api == nil {
		t.Skip(skip)
	}
	return api
}

var nsCounter atomic.Int32

// namespace creates a fresh namespace for one test.
func namespace(t *testing.T, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, nsCounter.Add(1))
	_, err := api.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// apply server-side-applies YAML, with "namespace: NS" set to ns (only
// there: base64 and PEM may spell NS too).
func apply(t *testing.T, ns, manifests string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kubetest.Apply(ctx, api.Config, ns, []byte(strings.ReplaceAll(manifests, "namespace: NS", "namespace: "+ns))); err != nil {
		t.Fatal(err)
	}
}

// serverSecret makes a development PKI in dir (once) with a server
// certificate for host, and returns it as Secret YAML (named name, in ns).
func serverSecret(t *testing.T, dir, ns, name, host string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, ".pki")); os.IsNotExist(err) {
		if err := certs.Init(dir, certs.InitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	is, err := certs.Issue(dir, certs.KindServer, certs.IssueOptions{Name: name, Hosts: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	y, err := is.SecretYAML(ns)
	if err != nil {
		t.Fatal(err)
	}
	return string(y)
}

// serving is a trustgate replica reading from the API server.
type serving struct {
	src  *kube.Source
	srv  *server.Server
	addr string
}

// serve starts a Source and an ADS server fed by it, as
// `trustgate serve --kubernetes` wires them.
func serve(t *testing.T, opts kube.Options) *serving {
	t.Helper()
	return serveAs(t, api.Config, opts)
}

// serveAs is serve with the client configuration cfg.
func serveAs(t *testing.T, cfg *rest.Config, opts kube.Options) *serving {
	t.Helper()
	if opts.Debounce == 0 {
		opts.Debounce = 50 * time.Millisecond
	}
	if opts.Logger == nil {
		w := &testWriter{t: t}
		t.Cleanup(func() { w.stopped.Store(true) }) // runs last: logging ends with the test
		opts.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	src, err := kube.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := src.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	// The server watches the source itself (server.Source).
	srv, err := server.New(server.Options{Source: src, Logger: opts.Logger})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &serving{src: src, srv: srv, addr: lis.Addr().String()}
}

// testWriter sends logs to t.Log while the test runs.
type testWriter struct {
	t       *testing.T
	stopped atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.stopped.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// kubeOptions watch only the test's namespace.
func kubeOptions(ns string) kube.Options { return kube.Options{Namespaces: []string{ns}} }

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }
