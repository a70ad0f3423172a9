package main

import (
	"context"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"time"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/trustgate/trustgate/certcheck"
	"github.com/trustgate/trustgate/xds/server"
)

// crlWatchInterval is how often `serve` judges its CRLs again.
const crlWatchInterval = time.Hour

// crlRemindEvery repeats a CRL warning while it still holds.
const crlRemindEvery = 24 * time.Hour

// crlCodes are the findings that change with the clock alone.
var crlCodes = map[string]bool{
	certcheck.CodeCRLExpiringSoon: true,
	certcheck.CodeCRLExpired:      true,
	certcheck.CodeCRLNotYetValid:  true,
}

// crlWatch judges the CRLs of the configuration `serve` loaded again as
// time passes. `serve` diagnoses its certificates when it loads the files,
// and loads them only when they change; a CRL that enters its warning window
// or reaches its nextUpdate while the files stay as they are would go
// unreported, and Envoy would start rejecting every client of its CA
// (certcheck.CodeCRLExpired). Each finding is logged when it appears, then
// once a day while it holds.
type crlWatch struct {
	log    *slog.Logger
	window time.Duration // the expiry-warning window, as at load

	mu     sync.Mutex
	cfg    server.Config
	logged map[string]time.Time // finding key -> when last logged
}

func newCRLWatch(log *slog.Logger, window time.Duration) *crlWatch {
	return &crlWatch{log: log, window: window, logged: map[string]time.Time{}}
}

// wrap records every configuration the loader returns. The loader has
// reported its findings at that time (loader logs the warnings), so they
// count as logged.
func (w *crlWatch) wrap(load server.Loader) server.Loader {
	return func() (server.Config, error) {
		cfg, err := load()
		if err == nil {
			w.set(cfg, time.Now())
		}
		return cfg, err
	}
}

// set replaces the watched configuration; its current findings count as
// reported at now.
func (w *crlWatch) set(cfg server.Config, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cfg = cfg
	w.logged = map[string]time.Time{}
	for _, f := range w.findings(now) {
		w.logged[f.key] = now
	}
}

// run checks every interval until ctx ends.
func (w *crlWatch) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			w.check(now)
		}
	}
}

// check logs the findings that are new, or were last logged a day ago,
// and forgets those that no longer hold.
func (w *crlWatch) check(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	current := map[string]bool{}
	for _, f := range w.findings(now) {
		current[f.key] = true
		if last, ok := w.logged[f.key]; ok && now.Sub(last) < crlRemindEvery {
			continue
		}
		w.logged[f.key] = now
		level := slog.LevelWarn
		if f.finding.Code == certcheck.CodeCRLExpired {
			level = slog.LevelError
		}
		w.log.Log(context.Background(), level, "CRL "+f.finding.Code, "secret", f.secret,
			"code", f.finding.Code, "message", f.finding.Message, "fix", f.finding.Fix)
	}
	for k := range w.logged {
		if !current[k] {
			delete(w.logged, k)
		}
	}
}

// crlFinding is one clock-dependent finding on one served secret.
type crlFinding struct {
	key, secret string
	finding     certcheck.Finding
}

// findings judges, at now, every validation context with a CRL among the
// secrets of every proxy group of the configuration.
func (w *crlWatch) findings(now time.Time) []crlFinding {
	if w.cfg == nil {
		return nil
	}
	secrets := map[string]*tlsv3.CertificateValidationContext{}
	lister, ok := w.cfg.(server.GroupLister)
	if !ok {
		return nil
	}
	for _, labels := range lister.Selectors() {
		res, err := w.cfg.Compile(labels)
		if err != nil {
			// The server reports a group that does not compile; nothing
			// of it is served.
			continue
		}
		for _, s := range res.Secrets {
			if vc := s.GetValidationContext(); len(vc.GetCrl().GetInlineBytes()) > 0 || len(vc.GetTrustedCa().GetInlineBytes()) > 0 {
				secrets[s.GetName()] = vc
			}
		}
	}
	names := make([]string, 0, len(secrets))
	for n := range secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []crlFinding
	for _, name := range names {
		vc := secrets[name]
		for _, f := range certcheck.CheckClientCA(certcheck.ClientCAInput{
			CA: vc.GetTrustedCa().GetInlineBytes(), CRL: vc.GetCrl().GetInlineBytes(),
			OnlyLeafCRL: vc.GetOnlyVerifyLeafCertCrl(), Now: now, ExpiryWarning: w.window,
		}) {
			if crlCodes[f.Code] {
				out = append(out, crlFinding{key: name + "\x00" + f.Code + "\x00" + crlSubject(f), secret: name, finding: f})
			}
		}
	}
	return out
}

// crlSubject identifies a finding across days: its message with every
// number blanked, as the remaining days in it change daily while the CRL and
// its dates stay.
func crlSubject(f certcheck.Finding) string { return digits.ReplaceAllString(f.Message, "#") }

var digits = regexp.MustCompile(`[0-9]+`)
