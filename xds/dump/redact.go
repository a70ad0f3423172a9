package dump

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/internal/protowalk"
)

// Redacted replaces a private key (or its password) in the output.
const Redacted = "[redacted]"

// redact returns a copy of m in which every TlsCertificate's private key and
// password read "[redacted]", wherever it sits (a Secret, or inlined in a
// listener or cluster inside an Any, which is packed again). Working on the
// proto rather than the text catches the key in any encoding (inline_bytes is
// base64 in JSON). Certificates are kept.
func redact(m proto.Message) (proto.Message, error) {
	c := proto.Clone(m)
	err := protowalk.Walker{Visit: func(m proto.Message, _ *anypb.Any) error {
		if cert, ok := m.(*tlsv3.TlsCertificate); ok {
			redactCert(cert)
		}
		return nil
	}}.Walk(c)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// redactCert redacts one certificate's secrets.
func redactCert(c *tlsv3.TlsCertificate) {
	if c.PrivateKey != nil {
		c.PrivateKey = redactedSource()
	}
	if c.Password != nil {
		c.Password = redactedSource()
	}
}

// redactedSource is the placeholder DataSource.
func redactedSource() *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: Redacted}}
}
