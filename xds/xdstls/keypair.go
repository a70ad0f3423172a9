package xdstls

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"
)

// KeyPair is a TLS certificate and its key read from files, read again
// when they change (cert-manager rotates them in place or through a Secret
// volume's symlink swap), as the ADS endpoint's are: a change that does not
// load (a certificate written before its key) keeps the last good pair.
type KeyPair struct {
	r *reloading[*tls.Certificate]
}

// NewKeyPair loads the pair once; what names it in errors and logs.
func NewKeyPair(what, certFile, keyFile string, log *slog.Logger) (*KeyPair, error) {
	parse := func(c [][]byte) (*tls.Certificate, error) {
		cert, err := tls.X509KeyPair(c[0], c[1]) // its errors never quote the key
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", certFile, keyFile, err)
		}
		return &cert, nil
	}
	r, err := newReloading(what, []string{certFile, keyFile}, parse, describeLeaf, log)
	if err != nil {
		return nil, err
	}
	return &KeyPair{r: r}, nil
}

// GetCertificate is tls.Config.GetCertificate: the current pair.
func (k *KeyPair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return k.r.get(), nil
}

// describeLeaf is what the logs say about a loaded certificate.
func describeLeaf(c *tls.Certificate) []any {
	leaf := c.Leaf // set by X509KeyPair
	if leaf == nil {
		return nil
	}
	attrs := []any{"subject", leaf.Subject.String(), "serial", leaf.SerialNumber.String(), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339)}
	if time.Now().After(leaf.NotAfter) {
		attrs = append(attrs, "warning", "the certificate has expired: peers will refuse it")
	}
	return attrs
}
