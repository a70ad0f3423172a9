package model

// Secret types that can hold certificates.
var secretTypes = []string{"Opaque", "kubernetes.io/tls"}

// pemRoles says what each known secret key must hold.
var pemRoles = map[string]string{
	KeyCert: pemCert, KeyTLSCert: pemCert,
	KeyKey: pemKey, KeyTLSKey: pemKey,
	KeyCACert: pemCert, KeyCACrt: pemCert,
	KeyCRL: pemCRL, KeyCACrl: pemCRL,
}

// secret checks a Secret's type and that its known keys hold PEM of the
// right kind; parsing the certificates themselves is another package's job.
func (v *validator) secret(s *Secret) {
	o := &s.Object
	if s.Type != "" && s.Type != secretTypes[0] && s.Type != secretTypes[1] {
		v.errorf(o, "type", "type %q does not hold certificates; use Opaque or kubernetes.io/tls", s.Type)
	}
	if s.Type == "kubernetes.io/tls" {
		for _, k := range []string{KeyTLSCert, KeyTLSKey} {
			if !s.hasRaw(k) {
				v.errorf(o, "data", "a kubernetes.io/tls secret needs key %s", k)
			}
		}
	}
	for _, k := range secretKeys {
		b, ok := s.Value(k)
		if !ok {
			continue // absent, or not base64 (reported by Load)
		}
		if err := checkPEM(b, pemRoles[k]); err != nil {
			v.errorf(o, s.keyPath(k), "%v", err)
		}
	}
}

// hasRaw reports whether key is present at all, even with a value that is
// not valid base64.
func (s *Secret) hasRaw(key string) bool {
	_, inData := s.Data[key]
	_, inString := s.StringData[key]
	return inData || inString
}
