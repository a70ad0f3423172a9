package xdstlstest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/xds/xdstls"
)

// PKI is a development CA in a directory.
type PKI struct {
	Dir string
}

// NewPKI creates a CA named cn in dir.
func NewPKI(dir, cn string) (*PKI, error) {
	if err := certs.Init(dir, certs.InitOptions{CommonName: cn}); err != nil {
		return nil, err
	}
	return &PKI{Dir: dir}, nil
}

// ClientCA is the file that verifies the PKI's client certificates.
func (p *PKI) ClientCA() string {
	return filepath.Join(p.Dir, certs.DefaultCASecretName, certs.FileCA)
}

// Server issues trustgate's certificate for hosts (DNS names or IPs) and
// returns the files to serve with; replace rotates an existing one.
func (p *PKI) Server(name string, replace bool, hosts ...string) (xdstls.Files, error) {
	is, err := certs.Issue(p.Dir, certs.KindServer, certs.IssueOptions{Name: name, Hosts: hosts, Replace: replace})
	if err != nil {
		return xdstls.Files{}, err
	}
	return xdstls.Files{Cert: filepath.Join(is.Dir, certs.FileCert), Key: filepath.Join(is.Dir, certs.FileKey), ClientCA: p.ClientCA()}, nil
}

// Client are a proxy's files: its certificate and key, and the CA that
// verifies trustgate.
type Client struct {
	CA, Cert, Key string
}

// Client issues a client certificate; opts.Name is its directory.
func (p *PKI) Client(opts certs.IssueOptions) (Client, error) {
	is, err := certs.Issue(p.Dir, certs.KindClient, opts)
	if err != nil {
		return Client{}, err
	}
	return Client{CA: filepath.Join(is.Dir, certs.FileCA), Cert: filepath.Join(is.Dir, certs.FileCert), Key: filepath.Join(is.Dir, certs.FileKey)}, nil
}

// TLSConfig is the client side of the handshake: it verifies trustgate as
// serverName against c.CA and presents c.Cert unless it is empty.
func (c Client) TLSConfig(serverName string) (*tls.Config, error) {
	caPEM, err := os.ReadFile(c.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New(c.CA + ": no CA certificate")
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
	if c.Cert != "" {
		cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// DialOption is TLSConfig as gRPC transport credentials.
func (c Client) DialOption(serverName string) (grpc.DialOption, error) {
	cfg, err := c.TLSConfig(serverName)
	if err != nil {
		return nil, err
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(cfg)), nil
}
