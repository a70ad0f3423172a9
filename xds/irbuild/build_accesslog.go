package irbuild

import (
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// DefaultAccessLogPath is where access logs go unless the mesh
// configuration says otherwise.
const DefaultAccessLogPath = "/dev/stdout"

// accessLog resolves the mesh configuration's access-log settings; nil
// means off. Access logs are on unless accessLogFile is set to "" (Istio
// logs nothing unless it is set): JSON to /dev/stdout, as Envoy Gateway
// does, so that the first question about a refused client, which
// certificate it presented and why it failed, has an answer.
func (b *builder) accessLog() *ir.AccessLog {
	a := &ir.AccessLog{Path: DefaultAccessLogPath, Encoding: ir.AccessLogJSON}
	m := b.cfg.Mesh
	if m == nil {
		return a
	}
	if m.AccessLogFile != nil {
		if *m.AccessLogFile == "" {
			return nil
		}
		a.Path = *m.AccessLogFile
	}
	if m.AccessLogEncoding == string(ir.AccessLogText) {
		a.Encoding = ir.AccessLogText
		a.Text = m.AccessLogFormat
		return a
	}
	if m.AccessLogFormat != "" {
		fields, err := model.ParseJSONLogFormat(m.AccessLogFormat)
		if err != nil {
			// Validate reported it; Build must not panic on what it skipped.
			b.errorf(&m.From.Object, "data.mesh.accessLogFormat", "%v", err)
			return a
		}
		a.JSON = fields
	}
	return a
}

// setAccessLogs turns access logs on for every HTTP chain (each request)
// and every TLS port (connections refused before any chain's filters run).
// A TLS port also gets the tls_inspector: the SNI a log line shows
// (%REQUESTED_SERVER_NAME%) is recorded by it alone, even where no chain
// matches on server names (see readsSNI). TLS clients speak first, so the
// inspector delays no connection.
func (b *builder) setAccessLogs(listeners []*ir.Listener) {
	a := b.accessLog()
	if a == nil {
		return
	}
	for _, l := range listeners {
		tls := false
		for _, c := range l.Chains {
			if c.HTTP != nil {
				c.HTTP.AccessLog = a
			}
			tls = tls || c.TLS != nil || c.TransportProtocol != ""
		}
		if tls {
			l.AccessLog = a
			l.TLSInspector = true
		}
	}
}
