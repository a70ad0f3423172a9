package scalecfg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/model"
)

// Options shape the workload.
type Options struct {
	// Hosts is the number of mTLS hosts.
	Hosts int
	// PerGateway is the number of servers (listeners) per Gateway; 50 if 0.
	PerGateway int
	// Routes per host: 1 (one catch-all route) or 2 (a /api prefix route,
	// then a catch-all); 1 if 0.
	Routes int
	// Rev changes host 0's first route (its prefix, or a header it adds)
	// and nothing else: successive revisions are one-route edits.
	Rev int
	// Policies gives every host what a production gateway has per host: a
	// DestinationRule and a ServiceEntry for each backend, a
	// ClientCertificatePolicy naming the host's server (its client CA and an
	// allow-list of one common name) and an AuthorizationPolicy naming it
	// (a DENY of /admin paths); the servers then name no CA themselves.
	// Only the Istio input has them (GatewayAPI refuses the option).
	Policies bool
}

// Selector is the Gateways' selector: the node labels of the one proxy
// group the workload programs.
var Selector = map[string]string{"istio": "ingressgateway"}

// Names of the files Write creates in its directory.
const (
	IstioFile      = "istio.yaml"
	GatewayAPIFile = "gatewayapi.yaml"
	SecretsDir     = "secrets"
	// CertName is the wildcard server certificate's secret.
	CertName = "wildcard"
	// CAName is the client CA's secret (certs.DefaultCASecretName).
	CAName = "client-ca"
)

// LoadOptions load the Istio input and secrets Write put in dir.
func LoadOptions(dir string) model.LoadOptions {
	return model.LoadOptions{Paths: []string{filepath.Join(dir, IstioFile)}, SecretsDirs: []string{filepath.Join(dir, SecretsDir)}}
}

func (o Options) withDefaults() (Options, error) {
	if o.PerGateway == 0 {
		o.PerGateway = 50
	}
	if o.Routes == 0 {
		o.Routes = 1
	}
	switch {
	case o.Hosts < 1:
		return o, fmt.Errorf("hosts must be at least 1, not %d", o.Hosts)
	case o.PerGateway < 1:
		return o, fmt.Errorf("servers per Gateway must be at least 1, not %d", o.PerGateway)
	case o.Routes != 1 && o.Routes != 2:
		return o, fmt.Errorf("routes per host must be 1 or 2, not %d", o.Routes)
	}
	return o, nil
}

// PKI makes a development PKI in dir (certs.Init) with the wildcard server
// certificate the workload uses.
func PKI(dir string) error {
	if err := certs.Init(dir, certs.InitOptions{}); err != nil {
		return err
	}
	_, err := certs.Issue(dir, certs.KindServer, certs.IssueOptions{Name: CertName, Hosts: []string{"*.example.com"}})
	return err
}

// Rotate replaces the wildcard certificate in the PKI at dir: a change that
// only SDS carries.
func Rotate(dir string) error {
	_, err := certs.Issue(dir, certs.KindServer, certs.IssueOptions{Name: CertName, Hosts: []string{"*.example.com"}, Replace: true})
	return err
}

// Write creates dir/secrets (a PKI), dir/istio.yaml and, with gatewayAPI,
// dir/gatewayapi.yaml.
func Write(dir string, o Options, gatewayAPI bool) error {
	secrets := filepath.Join(dir, SecretsDir)
	if err := PKI(secrets); err != nil {
		return err
	}
	if err := WriteFile(filepath.Join(dir, IstioFile), func(w io.Writer) error { return Istio(w, o) }); err != nil {
		return err
	}
	if !gatewayAPI {
		return nil
	}
	return WriteFile(filepath.Join(dir, GatewayAPIFile), func(w io.Writer) error { return GatewayAPI(w, o, secrets) })
}

// WriteFile writes path through a buffer: gen writes the content.
func WriteFile(path string, gen func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	err = gen(bw)
	if err == nil {
		err = bw.Flush()
	}
	return errors.Join(err, f.Close())
}

// ReplaceFile writes path atomically, as the README asks of editors: a
// temporary file in the same directory, renamed over path.
func ReplaceFile(path string, gen func(io.Writer) error) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := WriteFile(tmp, gen); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return os.Rename(tmp, path)
}
