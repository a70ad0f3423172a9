package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/server"
)

// logLines returns the JSON log records written since the last call as
// "LEVEL msg secret", and empties the buffer.
func logLines(t *testing.T, buf *bytes.Buffer) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec struct {
			Level, Msg, Secret, Message, Fix string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if rec.Message == "" || rec.Fix == "" {
			t.Errorf("record without message or fix: %s", line)
		}
		out = append(out, rec.Level+" "+rec.Msg+" "+rec.Secret)
	}
	buf.Reset()
	return out
}

// TestCRLWatch: serve loads its files only when they change, yet a CRL
// nears and passes its nextUpdate with the clock alone. The watch logs the
// CRL entering its warning window, then its expiry, once each (and again a
// day later), and nothing for what the load itself reported.
func TestCRLWatch(t *testing.T) {
	cfgFile, secrets := cliFixture(t, "app.example.com")
	published := time.Now().UTC().Truncate(time.Second)
	// A 3-day CRL: its warning window is its last day (a third of its
	// validity, shorter than the 30-day expiry warning).
	if err := certs.WriteCRLs(secrets, certs.CRLOptions{Days: 3, Now: published}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := newCRLWatch(slog.New(slog.NewJSONHandler(&buf, nil)), compile.DefaultExpiryWarning)
	load := w.wrap(func() (server.Config, error) {
		return compile.Load(model.LoadOptions{Paths: []string{cfgFile}, SecretsDirs: []string{secrets}}, compile.ForServe())
	})
	if _, err := load(); err != nil {
		t.Fatal(err)
	}
	const secret = "kubernetes://secrets/gw-cacert"
	next := published.AddDate(0, 0, 3)
	steps := []struct {
		at   time.Time
		want []string
	}{
		{at: published.Add(time.Hour)},
		{at: next.Add(-25 * time.Hour)},
		{at: next.Add(-23 * time.Hour), want: []string{"WARN CRL crl-expiring-soon " + secret}},
		{at: next.Add(-22 * time.Hour)}, // reported already
		{at: next.Add(-2 * time.Hour)},  // the remaining time changed, not the finding
		{at: next.Add(time.Hour), want: []string{"ERROR CRL crl-expired " + secret}},
		{at: next.Add(2 * time.Hour)},
		{at: next.Add(26 * time.Hour), want: []string{"ERROR CRL crl-expired " + secret}}, // a day later
	}
	for _, s := range steps {
		w.check(s.at)
		got := logLines(t, &buf)
		if strings.Join(got, "\n") != strings.Join(s.want, "\n") {
			t.Errorf("at nextUpdate%+v: logged %q, want %q", s.at.Sub(next), got, s.want)
		}
	}

	// A fresh CRL, loaded on a file change: the warnings stop, and the
	// old findings are forgotten.
	if err := certs.WriteCRLs(secrets, certs.CRLOptions{Days: 30, Now: published}); err != nil {
		t.Fatal(err)
	}
	if _, err := load(); err != nil {
		t.Fatal(err)
	}
	w.check(next.Add(27 * time.Hour))
	if got := logLines(t, &buf); len(got) != 0 {
		t.Errorf("after a fresh CRL: logged %q", got)
	}
}

// TestCRLWatchStartsQuiet: what the load reported (here an expired CRL,
// logged by the loader) is not logged again by the watch's first check.
func TestCRLWatchStartsQuiet(t *testing.T) {
	cfgFile, secrets := cliFixture(t, "app.example.com")
	if err := certs.WriteCRLs(secrets, certs.CRLOptions{Days: 1, Now: time.Now().AddDate(0, 0, -3)}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := newCRLWatch(slog.New(slog.NewJSONHandler(&buf, nil)), compile.DefaultExpiryWarning)
	cfg, err := w.wrap(func() (server.Config, error) {
		return compile.Load(model.LoadOptions{Paths: []string{cfgFile}, SecretsDirs: []string{secrets}}, compile.ForServe())
	})()
	if err != nil {
		t.Fatal(err)
	}
	if ws := cfg.(*compile.Config).Warnings(); !strings.Contains(strings.Join(ws, "\n"), "expired at its nextUpdate") {
		t.Fatalf("the load did not report the expired CRL: %q", ws)
	}
	w.check(time.Now().Add(time.Hour))
	if got := logLines(t, &buf); len(got) != 0 {
		t.Errorf("first check logged %q, which the load reported", got)
	}
}
