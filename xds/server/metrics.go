package server

import (
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/trustgate/trustgate/internal/pembundle"
	"github.com/trustgate/trustgate/xds/translate"
)

// metrics are the server's Prometheus metrics, in a registry of its own.
type metrics struct {
	registry          *prometheus.Registry
	pushes            *prometheus.CounterVec
	ackLatency        *prometheus.HistogramVec
	connected         prometheus.Gauge
	nacks             *prometheus.CounterVec
	reloadErrors      prometheus.Counter
	lastReloadSuccess prometheus.Gauge
	certExpiry        *prometheus.GaugeVec
	caExpiry          *prometheus.GaugeVec
	crlNextUpdate     *prometheus.GaugeVec
	denied            *prometheus.CounterVec
	unknown           *prometheus.CounterVec
	groups            prometheus.Gauge
	groupsFreed       prometheus.Counter
	conns             prometheus.Gauge
	connsClosed       *prometheus.CounterVec
	sendErrors        *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_xds_pushes_total", Help: "xDS responses sent, by resource type.",
		}, []string{"type"}),
		ackLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trustgate_xds_push_ack_seconds",
			Help:    "Time from sending an xDS response to Envoy's ACK of it, by resource type.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1ms .. 65s
		}, []string{"type"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustgate_xds_connected_proxies", Help: "Open ADS streams.",
		}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_xds_nacks_total", Help: "xDS responses Envoy rejected, by resource type.",
		}, []string{"type"}),
		reloadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trustgate_reload_errors_total", Help: "Configuration reloads that failed and kept the last good configuration.",
		}),
		lastReloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustgate_config_last_reload_success", Help: "1 if the last configuration reload succeeded, else 0.",
		}),
		certExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trustgate_certificate_expiry_timestamp_seconds",
			Help: "NotAfter of the leaf certificate of each served certificate secret, as a unix time.",
		}, []string{"secret"}),
		caExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trustgate_ca_certificate_expiry_timestamp_seconds",
			Help: "Earliest NotAfter among the CA certificates of each served validation secret, as a unix time.",
		}, []string{"secret"}),
		crlNextUpdate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trustgate_crl_next_update_timestamp_seconds",
			Help: "Earliest NextUpdate among the CRLs of each served validation secret, as a unix time; Envoy fails every handshake once a CRL has expired.",
		}, []string{"secret"}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_xds_denied_streams_total",
			Help: "ADS streams refused, by reason: the node is not the client certificate's identity or claims labels it may not, changed mid-stream, or a request was over a limit.",
		}, []string{"reason"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_xds_unknown_resource_requests_total",
			Help: "Resources asked for that the proxy's group is not served (they get nothing), by type; \"other\" counts requests for types trustgate does not serve.",
		}, []string{"type"}),
		groups: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustgate_xds_proxy_groups",
			Help: "Proxy groups (distinct label sets) held: declared by the configuration, or with a proxy connected, or within their grace period.",
		}),
		groupsFreed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trustgate_xds_proxy_groups_freed_total",
			Help: "Proxy groups freed because no proxy was connected to them.",
		}),
	}
	m.conns = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "trustgate_xds_connections", Help: "Open connections on the ADS listener.",
	})
	m.connsClosed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trustgate_xds_connections_closed_total",
		Help: "ADS connections the server closed: refused over --max-connections, or with no stream open for --xds-idle-timeout.",
	}, []string{"reason"})
	m.sendErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trustgate_xds_send_errors_total",
		Help: "xDS responses whose send failed, ending the stream (e.g. over the 64 MiB gRPC send limit), by type.",
	}, []string{"type"})
	m.registry.MustRegister(m.groups, m.groupsFreed, m.conns, m.connsClosed, m.sendErrors,
		m.pushes, m.ackLatency, m.connected, m.nacks, m.reloadErrors, m.lastReloadSuccess,
		m.certExpiry, m.caExpiry, m.crlNextUpdate, m.denied, m.unknown,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// setSecrets replaces the certificate and CRL gauges with those of the
// secrets served to any group. Unparsable PEM (translate checks it, so this
// is not expected) is returned as errors and leaves that secret's gauge out.
func (m *metrics) setSecrets(byGroup map[string]*translate.Resources) []error {
	secrets := map[string]*tlsv3.Secret{}
	for _, r := range byGroup {
		for _, s := range r.Secrets {
			secrets[s.GetName()] = s
		}
	}
	m.certExpiry.Reset()
	m.caExpiry.Reset()
	m.crlNextUpdate.Reset()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(secrets)) {
		if err := m.setSecret(secrets[name]); err != nil {
			errs = append(errs, fmt.Errorf("secret %q: %w", name, err))
		}
	}
	return errs
}

func (m *metrics) setSecret(s *tlsv3.Secret) error {
	name := s.GetName()
	if c := s.GetTlsCertificate(); c != nil {
		certs, err := pembundle.Certificates(inline(c.GetCertificateChain()))
		if err != nil || len(certs) == 0 {
			return errors.Join(errors.New("no certificate"), err)
		}
		m.certExpiry.WithLabelValues(name).Set(unix(certs[0].NotAfter)) // leaf first
	}
	v := s.GetValidationContext()
	if v == nil {
		return nil
	}
	if ca := inline(v.GetTrustedCa()); len(ca) > 0 {
		certs, err := pembundle.Certificates(ca)
		if err != nil {
			return err
		}
		if len(certs) > 0 {
			m.caExpiry.WithLabelValues(name).Set(unix(earliest(certs, func(c *x509.Certificate) time.Time { return c.NotAfter })))
		}
	}
	if crl := inline(v.GetCrl()); len(crl) > 0 {
		crls, err := pembundle.CRLs(crl)
		if err != nil {
			return err
		}
		if len(crls) > 0 {
			m.crlNextUpdate.WithLabelValues(name).Set(unix(earliest(crls, func(c *x509.RevocationList) time.Time { return c.NextUpdate })))
		}
	}
	return nil
}

// inline returns a data source's inline content; files are not read (the
// server does no I/O on behalf of the configuration).
func inline(d *corev3.DataSource) []byte {
	switch {
	case d.GetInlineBytes() != nil:
		return d.GetInlineBytes()
	case d.GetInlineString() != "":
		return []byte(d.GetInlineString())
	}
	return nil
}

func earliest[T any](xs []T, at func(T) time.Time) time.Time {
	e := at(xs[0])
	for _, x := range xs[1:] {
		if t := at(x); t.Before(e) {
			e = t
		}
	}
	return e
}

func unix(t time.Time) float64 { return float64(t.Unix()) }

// shortTypes names the served types in metric labels and debug output.
var shortTypes = map[string]string{
	resource.ListenerType: "listener",
	resource.RouteType:    "route",
	resource.ClusterType:  "cluster",
	resource.EndpointType: "endpoint",
	resource.SecretType:   "secret",
}

// shortType names a type URL; anything else a client asks for is "other",
// which keeps a hostile client from inflating the metrics' label sets.
func shortType(typeURL string) string {
	if s, ok := shortTypes[typeURL]; ok {
		return s
	}
	return "other"
}
