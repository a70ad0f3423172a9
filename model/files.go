package model

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Size limits of the files Load reads. A configuration file may hold
// Secret documents with CA bundles, so it gets more room than one PEM file;
// neither could be sent to Envoy near these sizes anyway.
const (
	maxFileSize       = 16 << 20 // a certificate, key, CA bundle or CRL file
	maxConfigFileSize = 64 << 20 // a YAML configuration file
)

// readRegular reads a regular file of at most limit bytes. A device or pipe
// named by mistake would never end (/dev/zero) or block on open (a FIFO
// with no writer), which would stall every later reload. So the type is
// checked before opening, and again on the opened file: a file swapped for
// a link to a FIFO between the two is opened without blocking (O_NONBLOCK)
// and refused.
func readRegular(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(path, st.Mode()); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close() // read-only: a close error loses nothing
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkRegular(path, st.Mode()); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// checkRegular refuses anything but a regular file, naming what it is.
func checkRegular(path string, m fs.FileMode) error {
	var what string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		what = "a device"
	default:
		what = "not a regular file (" + m.Type().String() + ")"
		return fmt.Errorf("%s is %s; trustgate reads only regular files", path, what)
	}
	return fmt.Errorf("%s is %s, not a regular file; trustgate reads only regular files", path, what)
}

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
		b, err := readRegular(abs, maxFileSize)
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
		if s.TLS == nil {
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
