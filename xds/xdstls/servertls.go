package xdstls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"

	"github.com/trustgate/trustgate/internal/pembundle"
)

// Files are the PEM files of the ADS endpoint's mutual TLS.
type Files struct {
	Cert, Key string // trustgate's certificate chain and its private key
	ClientCA  string // the CA certificates that verify proxies' certificates
}

// ServerTLS is the ADS endpoint's TLS configuration; its files reload on
// change.
type ServerTLS struct {
	r *reloading[*tls.Config]
}

// NewServerTLS loads the files; it fails when any of them does not load.
func NewServerTLS(f Files, log *slog.Logger) (*ServerTLS, error) {
	if f.Cert == "" || f.Key == "" || f.ClientCA == "" {
		return nil, errors.New("xDS over TLS needs a certificate, its key and a client CA")
	}
	parse := func(c [][]byte) (*tls.Config, error) { return serverConfig(f, c[0], c[1], c[2]) }
	r, err := newReloading("xDS TLS certificate and client CA", []string{f.Cert, f.Key, f.ClientCA}, parse, describe, log)
	if err != nil {
		return nil, err
	}
	return &ServerTLS{r: r}, nil
}

// Config returns the configuration to serve with: TLS 1.2 or later, and a
// client certificate verified by the client CA required on every
// connection. Each handshake takes the current certificate and client CA.
func (s *ServerTLS) Config() *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS12,
		ClientAuth:             tls.RequireAndVerifyClientCert,
		SessionTicketsDisabled: true, // see serverConfig
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.r.get(), nil
		},
	}
}

// serverConfig builds the configuration of one set of files.
func serverConfig(f Files, certPEM, keyPEM, caPEM []byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM) // its errors never quote the key
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", f.Cert, f.Key, err)
	}
	pool, err := certPool(caPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.ClientCA, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		// Resumption would skip verifying the client's certificate against
		// the CA of the moment (tickets outlive a CA reload), and saves
		// nothing on an ADS connection that lives for hours.
		SessionTicketsDisabled: true,
		NextProtos:             []string{"h2"}, // gRPC refuses a connection without it
	}, nil
}

// certPool parses every CERTIFICATE block; it needs at least one.
func certPool(b []byte) (*x509.CertPool, error) {
	certs, err := pembundle.Certificates(b)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("no CA certificate (PEM CERTIFICATE block) found")
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// describe is what the logs say about a loaded configuration.
func describe(c *tls.Config) []any { return describeLeaf(&c.Certificates[0]) }
