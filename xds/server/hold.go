package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/internal/pembundle"
)

// Reasons a reload is held back (the reason label of
// trustgate_reload_held_total).
const (
	// HoldNoListeners: the reload would take every listener away from a
	// group with connected proxies.
	HoldNoListeners = "no_listeners"
	// HoldCertificate: a served certificate that is valid now would be
	// replaced by one that is expired or not yet valid.
	HoldCertificate = "certificate"
	// HoldCRL: a served CRL that is current would be replaced by one that
	// is expired or not yet valid.
	HoldCRL = "crl"
)

// heldRetry is how often a held-back reload is looked at again: it is
// loaded once what held it back is gone (the group's proxies disconnected,
// or the served certificate or CRL is no longer valid either).
const heldRetry = time.Second

// HeldChange is one reason the last reload was held back, as /debug/reload
// shows it.
type HeldChange struct {
	Group   string `json:"group"`
	Reason  string `json:"reason"`
	Secret  string `json:"secret,omitempty"`
	Proxies int    `json:"proxies,omitempty"` // connected proxies of the group
	Message string `json:"message"`
}

// heldError is a HeldChange as a reload error.
type heldError struct{ HeldChange }

func (e *heldError) Error() string { return e.Message }

// vet is the last step of a reload, after every group compiled: it holds
// the reload back when installing it would cause an outage that serving
// the last good configuration avoids.
//
//   - Every listener of a group with connected proxies would go: an emptied
//     or deleted file, a Gateway removed by mistake. Envoy removes every
//     listener a SotW LDS update leaves out, and every one a delta update
//     names as removed (source/common/listener_manager/lds_api.cc,
//     LdsApiImpl::onConfigUpdate, both overloads), so the proxies would
//     stop serving. Options.AllowEmptyGroups lets it through.
//   - A served certificate or CRL that is valid now would be replaced by one
//     that is expired or not yet valid: Envoy then fails every handshake of
//     the chain, or rejects every client certificate of the CA ("CRL has
//     expired"). When the served one is not valid either, the newer wins.
//
// On a hold nothing changes: every group keeps its snapshot.
func (s *Server) vet(next map[string]*snapshot) error {
	now := time.Now()
	var connected map[string]int
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(next)) {
		cur := s.groups.current(key)
		if cur == nil {
			continue // nothing served: nothing to lose
		}
		n := next[key]
		if len(cur.resources.Listeners) > 0 && len(n.resources.Listeners) == 0 && !s.opts.AllowEmptyGroups {
			if connected == nil {
				connected = s.connectedByGroup()
			}
			if c := connected[key]; c > 0 {
				errs = append(errs, &heldError{HeldChange{Group: key, Reason: HoldNoListeners, Proxies: c, Message: fmt.Sprintf(
					"group %q: the new configuration has no listener for this group, which has %d connected proxies: held back, the last good configuration stays served. "+
						"If the files are right (the Gateways of this group were removed on purpose), stop those proxies: the change is applied once none is connected; or run serve with --allow-empty-groups",
					key, c)}})
			}
		}
		errs = append(errs, s.vetSecrets(key, cur, n, now)...)
	}
	return errors.Join(errs...)
}

// vetSecrets holds back certificates and CRLs that are not valid now when
// the served ones of the same name are.
func (s *Server) vetSecrets(key string, cur, next *snapshot, now time.Time) []error {
	served := map[string]*tlsv3.Secret{}
	for _, sec := range cur.resources.Secrets {
		served[sec.GetName()] = sec
	}
	var errs []error
	for _, sec := range next.resources.Secrets {
		old := served[sec.GetName()]
		if old == nil || proto.Equal(old, sec) {
			continue // nothing served under this name, or no change
		}
		reason, trouble := secretTrouble(sec, now)
		if trouble == "" {
			continue
		}
		if _, oldTrouble := secretTrouble(old, now); oldTrouble != "" {
			s.log.Warn("replacing a certificate or CRL that is not valid by another that is not valid either",
				"group", key, "secret", sec.GetName(), "new", trouble, "served", oldTrouble)
			continue
		}
		fix := "renew the certificate"
		if reason == HoldCRL {
			fix = "publish a fresh CRL (trustgate certs crl; openssl ca -gencrl)"
		}
		errs = append(errs, &heldError{HeldChange{Group: key, Reason: reason, Secret: sec.GetName(), Message: fmt.Sprintf(
			"group %q: secret %q: the new %s; the served one is valid, so it stays served and this reload is held back (Envoy would fail every handshake it is used in). Fix: %s",
			key, sec.GetName(), trouble, fix)}})
	}
	return errs
}

// secretTrouble says why a secret would fail handshakes now: a certificate
// of its chain expired or not yet valid, or a CRL (in the CRL or among the
// trusted CAs, where Envoy reads CRLs too) past its nextUpdate or before
// its thisUpdate. PEM that does not parse is the pipeline's to refuse.
func secretTrouble(sec *tlsv3.Secret, now time.Time) (reason, trouble string) {
	if c := sec.GetTlsCertificate(); c != nil {
		certs, _ := pembundle.Certificates(inline(c.GetCertificateChain())) // unparsable: refused by the pipeline
		for _, crt := range certs {
			switch {
			case now.After(crt.NotAfter):
				return HoldCertificate, fmt.Sprintf("certificate %q expired on %s", crt.Subject.String(), crt.NotAfter.UTC().Format(time.RFC3339))
			case now.Before(crt.NotBefore):
				return HoldCertificate, fmt.Sprintf("certificate %q is not valid before %s", crt.Subject.String(), crt.NotBefore.UTC().Format(time.RFC3339))
			}
		}
	}
	v := sec.GetValidationContext()
	if v == nil {
		return "", ""
	}
	crls, _ := pembundle.CRLs(append(append([]byte(nil), inline(v.GetCrl())...), inline(v.GetTrustedCa())...))
	for _, crl := range crls {
		switch {
		case !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate):
			return HoldCRL, fmt.Sprintf("CRL of %q expired at its nextUpdate %s", issuer(crl), crl.NextUpdate.UTC().Format(time.RFC3339))
		case now.Before(crl.ThisUpdate):
			return HoldCRL, fmt.Sprintf("CRL of %q is not valid before its thisUpdate %s", issuer(crl), crl.ThisUpdate.UTC().Format(time.RFC3339))
		}
	}
	return "", ""
}

func issuer(crl *x509.RevocationList) string { return crl.Issuer.String() }

// connectedByGroup counts the connected proxies of each group.
func (s *Server) connectedByGroup() map[string]int {
	out := map[string]int{}
	for _, p := range s.proxies.status() {
		out[p.Group]++
	}
	return out
}

// holds keeps what held back the last reload, and its metrics.
type holds struct {
	total   *prometheus.CounterVec
	current prometheus.Gauge

	mu   sync.Mutex
	last []HeldChange
}

func newHolds(reg prometheus.Registerer) *holds {
	h := &holds{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_reload_held_total",
			Help: "Reloads held back because they would cause an outage, by reason: no_listeners (a group with connected proxies would lose every listener), certificate or crl (a valid one would be replaced by one that is expired or not yet valid).",
		}, []string{"reason"}),
		current: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustgate_reload_held",
			Help: "Reasons the last reload was held back for (0: it was not).",
		}),
	}
	reg.MustRegister(h.total, h.current)
	return h
}

// heldIn returns the holds among a reload's errors.
func heldIn(err error) []HeldChange {
	var out []HeldChange
	for _, e := range flatten(err) {
		var h *heldError
		if errors.As(e, &h) {
			out = append(out, h.HeldChange)
		}
	}
	return out
}

// record remembers the holds of a reload that was not dropped.
func (h *holds) record(held []HeldChange) {
	for _, c := range held {
		h.total.WithLabelValues(c.Reason).Inc()
	}
	h.current.Set(float64(len(held)))
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = held
}

func (h *holds) pending() []HeldChange {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.last)
}

// retryHeld reloads again once everything that held back the last reload
// is gone, until ctx ends.
func (s *Server) retryHeld(ctx context.Context) {
	every(ctx, heldRetry, func() {
		held := s.held.pending()
		if len(held) == 0 || s.settling() || !s.resolved(held) {
			return // input still changing: the source reloads once it settles
		}
		s.log.Info("what held back the last reload is gone; reloading")
		_ = s.Reload(ctx) // Reload logs and records its errors
	})
}

// settling reports whether the source has changes that have not settled
// (see Settling).
func (s *Server) settling() bool {
	st, ok := s.opts.Source.(Settling)
	return ok && st.Settling()
}

// resolved reports whether every hold is gone: the group has no connected
// proxy, or the served secret is no longer valid (or no longer served).
func (s *Server) resolved(held []HeldChange) bool {
	connected := s.connectedByGroup()
	now := time.Now()
	for _, h := range held {
		switch h.Reason {
		case HoldNoListeners:
			if connected[h.Group] > 0 {
				return false
			}
		default:
			if cur := s.groups.current(h.Group); cur != nil {
				for _, sec := range cur.resources.Secrets {
					if _, trouble := secretTrouble(sec, now); sec.GetName() == h.Secret && trouble == "" {
						return false
					}
				}
			}
		}
	}
	return true
}
