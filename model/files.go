package model

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/trustgate/trustgate/internal/regularfile"
)

// Size limits of the files Load reads. A configuration file may hold
// Secret documents with CA bundles, so it gets more room than one PEM file;
// neither could be sent to Envoy near these sizes anyway.
const (
	maxFileSize       = 16 << 20 // a certificate, key, CA bundle or CRL file
	maxConfigFileSize = 64 << 20 // a YAML configuration file
)

// File returns the contents of a file named by one of o's file fields
// (serverCertificate, caCertificates, ...), read during Load: a relative
// path is taken relative to the directory of o's YAML file.
func (c *Config) File(o *Object, path string) ([]byte, bool) {
	b, ok := c.Files[resolveFilePath(o, path)]
	return b, ok
}

// resolveFilePath makes path absolute and clean, relative to the directory
// of o's file.
func resolveFilePath(o *Object, path string) string {
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(o.Pos.File), path)
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	// Abs fails only when the working directory is gone; the cleaned
	// relative path is then the best key there is.
	return filepath.Clean(path)
}

// fileField is one file-valued field: its path in the object and its value.
type fileField struct {
	path, value string
}

// readFileFields reads every file named by a Gateway's or DestinationRule's
// TLS file fields into Config.Files; a missing file is an error at the
// field.
func (l *loader) readFileFields() {
	for _, g := range l.cfg.Gateways {
		l.readFiles(&g.Object, gatewayFileFields(g))
	}
	for _, dr := range l.cfg.DestinationRules {
		l.readFiles(&dr.Object, destinationRuleFileFields(dr))
	}
}

func (l *loader) readFiles(o *Object, fields []fileField) {
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		abs := resolveFilePath(o, f.value)
		if _, done := l.cfg.Files[abs]; done {
			continue
		}
		b, err := regularfile.Read(abs, maxFileSize)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			l.errs.Add(o.Errorf(f.path, "file %s not found", abs))
			continue
		case err != nil:
			l.errs.Add(o.Errorf(f.path, "%v", err))
			continue
		}
		l.cfg.Files[abs] = toPEM(b) // DER certificates and CRLs become PEM, as Envoy needs
	}
}

func gatewayFileFields(g *Gateway) []fileField {
	var out []fileField
	for i, s := range g.Spec.Servers {
		// Both users skip empty fields; a server with none set (the
		// usual credentialName server) costs no paths, on every load.
		if t := s.TLS; t == nil || t.ServerCertificate == "" && t.PrivateKey == "" && t.CACertificates == "" && t.CACrl == "" {
			continue
		}
		p := fmt.Sprintf("spec.servers[%d].tls.", i)
		out = append(out,
			fileField{p + "serverCertificate", s.TLS.ServerCertificate},
			fileField{p + "privateKey", s.TLS.PrivateKey},
			fileField{p + "caCertificates", s.TLS.CACertificates},
			fileField{p + "caCrl", s.TLS.CACrl})
	}
	return out
}

func destinationRuleFileFields(dr *DestinationRule) []fileField {
	var out []fileField
	tls := func(p string, t *ClientTLSSettings) {
		if t == nil {
			return
		}
		out = append(out,
			fileField{p + ".clientCertificate", t.ClientCertificate},
			fileField{p + ".privateKey", t.PrivateKey},
			fileField{p + ".caCertificates", t.CACertificates},
			fileField{p + ".caCrl", t.CACrl})
	}
	policy := func(p string, tp *TrafficPolicy) {
		if tp == nil {
			return
		}
		tls(p+".tls", tp.TLS)
		for i, pl := range tp.PortLevelSettings {
			tls(fmt.Sprintf("%s.portLevelSettings[%d].tls", p, i), pl.TLS)
		}
	}
	policy("spec.trafficPolicy", dr.Spec.TrafficPolicy)
	for i, ss := range dr.Spec.Subsets {
		policy(fmt.Sprintf("spec.subsets[%d].trafficPolicy", i), ss.TrafficPolicy)
	}
	return out
}
