package kubetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/trustgate/trustgate/certs"
)

// KubeVersion is the Kubernetes version hack/kube-binaries.sh builds by
// default (a test keeps the two equal).
const KubeVersion = "v1.37.2"

// ErrNoBinaries means kube-apiserver or etcd is not where Binaries looks.
var ErrNoBinaries = errors.New("kube-apiserver and etcd not found: run hack/kube-binaries.sh (about 10-25 minutes the first time) or set KUBEBUILDER_ASSETS")

// Required reports whether the Kubernetes tests must run
// (TRUSTGATE_REQUIRE_KUBE is set, as .ci/run does): then missing binaries
// fail them instead of skipping them.
func Required() bool { return os.Getenv("TRUSTGATE_REQUIRE_KUBE") != "" }

// startTimeout bounds the start of etcd and of the API server.
const startTimeout = 90 * time.Second

// Binaries returns the folder holding kube-apiserver and etcd.
func Binaries() (string, error) {
	var dirs []string
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("TRUSTGATE_KUBE_CACHE"); d != "" {
		dirs = append(dirs, filepath.Join(d, KubeVersion))
	} else if c, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(c, "trustgate", "kube", KubeVersion))
	}
	for _, d := range dirs {
		if executable(filepath.Join(d, "kube-apiserver")) && executable(filepath.Join(d, "etcd")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w (looked in %s)", ErrNoBinaries, strings.Join(dirs, ", "))
}

func executable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// APIServer is a running kube-apiserver with its etcd.
type APIServer struct {
	// Config is an administrator's client configuration (system:masters).
	Config *rest.Config
	// Client is a typed client with Config.
	Client kubernetes.Interface
	// Dir holds the certificates, etcd's data and both logs.
	Dir  string
	pki  string
	etcd *proc
	api  *proc
}

// proc is a started binary; done is closed once it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's, once done
}

// Start runs etcd and kube-apiserver on loopback ports and waits until the
// API server is ready (about 5 s on an idle machine).
func Start() (_ *APIServer, err error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "trustgate-kube-")
	if err != nil {
		return nil, err
	}
	s := &APIServer{Dir: dir, pki: filepath.Join(dir, "pki")}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
		}
	}()
	if err := s.makePKI(); err != nil {
		return nil, err
	}
	etcdPort, peerPort, apiPort, err := freePorts()
	if err != nil {
		return nil, err
	}
	if err := s.startEtcd(bin, etcdPort, peerPort); err != nil {
		return nil, err
	}
	if err := s.startAPI(bin, etcdPort, apiPort); err != nil {
		return nil, err
	}
	return s, nil
}

// makePKI writes the API server's serving certificate, an administrator's
// client certificate and the service-account signing key.
func (s *APIServer) makePKI() error {
	if err := certs.Init(s.pki, certs.InitOptions{}); err != nil {
		return err
	}
	if _, err := certs.Issue(s.pki, certs.KindServer, certs.IssueOptions{Name: "apiserver", Hosts: []string{"127.0.0.1", "localhost"}}); err != nil {
		return err
	}
	if _, err := certs.Issue(s.pki, certs.KindClient, certs.IssueOptions{Name: "admin", CommonName: "admin", Organization: "system:masters"}); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.Dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
}

func (s *APIServer) startEtcd(bin string, port, peer int) error {
	client := fmt.Sprintf("http://127.0.0.1:%d", port)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	cmd, err := run(filepath.Join(bin, "etcd"), filepath.Join(s.Dir, "etcd.log"),
		"--data-dir="+filepath.Join(s.Dir, "etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync", // a test's data need not survive a crash
	)
	if err != nil {
		return err
	}
	s.etcd = cmd
	return waitHTTP(&http.Client{Timeout: 2 * time.Second}, client+"/health", cmd, filepath.Join(s.Dir, "etcd.log"))
}

func (s *APIServer) startAPI(bin string, etcdPort, port int) error {
	p := func(parts ...string) string { return filepath.Join(append([]string{s.pki}, parts...)...) }
	log := filepath.Join(s.Dir, "kube-apiserver.log")
	cmd, err := run(filepath.Join(bin, "kube-apiserver"), log,
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", etcdPort),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		// The endpoint reconciler would publish 127.0.0.1 as the
		// kubernetes Service's endpoint, which the API refuses.
		"--endpoint-reconciler-type=none",
		"--cert-dir="+filepath.Join(s.Dir, "certs"),
		"--tls-cert-file="+p("apiserver", "tls.crt"), "--tls-private-key-file="+p("apiserver", "tls.key"),
		"--client-ca-file="+p("client-ca", "ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(s.Dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(s.Dir, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=RBAC",
		// No controller manager creates default service accounts.
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
	)
	if err != nil {
		return err
	}
	s.api = cmd
	ca, err := os.ReadFile(p("client-ca", "ca.crt"))
	if err != nil {
		return err
	}
	caServer, err := os.ReadFile(p("apiserver", "ca.crt"))
	if err != nil {
		return err
	}
	crt, err := os.ReadFile(p("admin", "tls.crt"))
	if err != nil {
		return err
	}
	key, err := os.ReadFile(p("admin", "tls.key"))
	if err != nil {
		return err
	}
	s.Config = &rest.Config{
		Host: fmt.Sprintf("https://127.0.0.1:%d", port),
		TLSClientConfig: rest.TLSClientConfig{
			CAData: append(caServer, ca...), CertData: crt, KeyData: key,
		},
		QPS: 200, Burst: 400,
	}
	hc, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		return err
	}
	hc.Timeout = 2 * time.Second
	if err := waitHTTP(hc, s.Config.Host+"/readyz", cmd, log); err != nil {
		return err
	}
	s.Client, err = kubernetes.NewForConfig(s.Config)
	return err
}

// Stop ends the API server, then etcd, and removes Dir.
func (s *APIServer) Stop() error {
	var errs []error
	for _, p := range []*proc{s.api, s.etcd} {
		if p != nil {
			errs = append(errs, stop(p))
		}
	}
	errs = append(errs, os.RemoveAll(s.Dir))
	return errors.Join(errs...)
}

// run starts a binary with its output in logFile.
func run(bin, logFile string, args ...string) (*proc, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...) //nolint:gosec // G204: kube-apiserver or etcd from Binaries(), test-only
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = errors.Join(cmd.Wait(), f.Close())
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM and waits up to 10 s, then kills. An exit caused by
// the signal is no error.
func stop(p *proc) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.done
	return nil
}

// waitHTTP polls url until it answers 200, the process exits, or
// startTimeout passes; errors carry the end of the log.
func waitHTTP(hc *http.Client, url string, p *proc, log string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v\n%s", filepath.Base(p.cmd.Path), p.err, tail(log))
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			ok := resp.StatusCode == http.StatusOK
			if cerr := resp.Body.Close(); cerr != nil {
				return cerr
			}
			if ok {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %s: %v\n%s", url, startTimeout, err, tail(log))
		case <-time.After(100 * time.Millisecond): // polling, bounded by ctx
		}
	}
}

// tail is the end of a log file, for errors.
func tail(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// freePorts picks three free loopback ports.
func freePorts() (a, b, c int, err error) {
	var ports [3]int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close() // only reserved the port
		}
	}()
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, 0, err
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports[0], ports[1], ports[2], nil
}
