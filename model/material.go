package model

// secretMaterial is a secret's certificate, key, CA and CRL as resolved.
type secretMaterial struct{ cert, key, ca, crl []byte }

// material returns s's certificate, key, CA and CRL, worked out (base64
// decoded, DER turned into PEM) once per Config: credentials are resolved
// for every server that names the secret, and at 10,000 servers sharing one
// certificate that was a quarter of ir.Build (docs/performance.md). The
// bytes are shared: callers must not modify them.
func (c *Config) material(s *Secret) (cert, key, ca, crl []byte) {
	if c.materials == nil { // a Config not made by a loader: no cache
		return s.material()
	}
	if m, ok := c.materials.Load(s); ok {
		sm := m.(secretMaterial)
		return sm.cert, sm.key, sm.ca, sm.crl
	}
	cert, key, ca, crl = s.material()
	c.materials.Store(s, secretMaterial{cert, key, ca, crl})
	return cert, key, ca, crl
}
