package e2e_test

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// The configuration of the reload-safety tests, in two versions per file
// (A and B), written in block style so that most line boundaries fall
// inside an object.
var safetyFiles = map[string][2]string{
	"gateway.yaml": {safetyGateway, strings.Replace(safetyGateway, "      caCertCredentialName: client-ca\n",
		"      caCertCredentialName: client-ca\n      minProtocolVersion: TLSV1_3\n", 1)},
	"vs.yaml": {safetyVS, strings.Replace(safetyVS, "  http:\n",
		"  http:\n  - match:\n    - uri:\n        prefix: /v2\n    route:\n    - destination:\n        host: app-v2.internal\n        port:\n          number: 8080\n", 1)},
	"policy.yaml": {safetyPolicy, strings.Replace(safetyPolicy, "      - exact: alice\n",
		"      - exact: alice\n      - exact: bob\n    deny:\n    - name: blocked\n      commonName:\n      - exact: mallory\n", 1)},
}

const safetyGateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: edge
spec:
  selector:
    istio: ingressgateway
  servers:
  - name: main
    port:
      number: 443
      name: https
      protocol: HTTPS
    hosts:
    - gw.example.com
    tls:
      mode: MUTUAL
      credentialName: gw
      caCertCredentialName: client-ca
`

const safetyVS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: app
  namespace: edge
spec:
  hosts:
  - gw.example.com
  gateways:
  - gw
  http:
  - route:
    - destination:
        host: app.internal
        port:
          number: 8080
`

const safetyPolicy = `apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata:
  name: clients
  namespace: edge
spec:
  targetRef:
    kind: Gateway
    name: gw
    sectionName: main
  authorization:
    allow:
    - name: partners
      commonName:
      - exact: alice
`

var safetyLabels = map[string]string{"istio": "ingressgateway"}

// safetyNames are the files of safetyFiles, sorted.
var safetyNames = slices.Sorted(maps.Keys(safetyFiles))

// version returns the files with each file at version v[name] (0: A,
// 1: B); a file missing from v is left out.
func version(v map[string]int) map[string]string {
	out := map[string]string{}
	for name, i := range v {
		out[name] = safetyFiles[name][i]
	}
	return out
}

func allAt(i int) map[string]int {
	return map[string]int{"gateway.yaml": i, "vs.yaml": i, "policy.yaml": i}
}

// safetySecrets makes a secrets directory: a CA whose CRLs are current, a
// server certificate for gw.example.com, and alice's client certificate.
func safetySecrets(t *testing.T, now time.Time) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "secrets")
	mustDo(t, certs.Init(dir, certs.InitOptions{Now: now}))
	_, err := certs.Issue(dir, certs.KindServer, certs.IssueOptions{Name: "gw", Hosts: []string{"gw.example.com"}, Now: now})
	mustDo(t, err)
	return dir
}

// figures logs what a scenario tried and found, for docs/reload-safety.md.
func figures(t *testing.T, r *rig, allowed *envoytest.FullStates) {
	t.Helper()
	responses := r.check(allowed)
	bad := 0
	for _, e := range r.envoys {
		bad += len(allowed.Check(e.Responses()))
	}
	r.mu.Lock()
	gap := r.slow.MaxGap
	r.mu.Unlock()
	t.Logf("figures: writes tried %d, responses received %d (SotW and delta), states written in full %d, responses with an intermediate state %d, longest stall mid-file %v (settle %v)",
		r.writes.Load(), responses, allowed.States(), bad, gap.Round(time.Millisecond), rigSettle)
	if gap >= rigSettle {
		t.Errorf("a writer stalled %v, not less than the settle time %v: this run proves nothing about stalls", gap, rigSettle)
	}
}

// TestReloadsPushOnlyStatesWrittenInFull drives `serve` (the real pipeline,
// watcher and ADS server) over files on disk, with a SotW and a delta fake
// Envoy recording every response, and asserts that every response carries
// only a state of the files that the user wrote in full.
func TestReloadsPushOnlyStatesWrittenInFull(t *testing.T) {
	secrets := safetySecrets(t, time.Now())

	t.Run("in-place rewrites that stall mid-file", func(t *testing.T) {
		r := newRig(t, secrets, safetyLabels)
		steps := []map[string]int{allAt(0),
			{"gateway.yaml": 0, "vs.yaml": 0, "policy.yaml": 1},
			{"gateway.yaml": 0, "vs.yaml": 1, "policy.yaml": 1},
			allAt(1)}
		var states []map[string][]proto.Message
		for _, s := range steps {
			states = append(states, r.mustState(version(s)))
		}
		r.start(version(steps[0]))
		for i, name := range []string{"policy.yaml", "vs.yaml", "gateway.yaml"} {
			r.writeInPlace(name, safetyFiles[name][1])
			r.waitFor(name+" as written in full", states[i+1])
		}
		figures(t, r, envoytest.NewFullStates(states...))
	})

	t.Run("empty and blank files", func(t *testing.T) {
		r := newRig(t, secrets, safetyLabels)
		a := r.mustState(version(allAt(0)))
		r.start(version(allAt(0)))
		for _, name := range safetyNames {
			for what, content := range map[string]string{"emptied": "", "blanked": "\n  \n"} {
				since := r.reloads()
				mustDo(t, os.WriteFile(filepath.Join(r.cfgDir, name), []byte(content), 0o644)) // in place, as `: > file` does
				r.writes.Add(1)
				st := r.waitReload(since, func(st server.ReloadStatus) bool { return !st.OK })
				if !strings.Contains(strings.Join(st.Errors, "\n"), name+": the file is empty") {
					t.Errorf("%s %s: errors %q, want the file named as empty", name, what, st.Errors)
				}
				since = r.reloads()
				r.replace(name, safetyFiles[name][0])
				r.waitReload(since, func(st server.ReloadStatus) bool { return st.OK })
			}
		}
		r.waitFor("the configuration as it was", a)
		figures(t, r, envoytest.NewFullStates(a))
	})

	t.Run("deletions", func(t *testing.T) {
		r := newRig(t, secrets, safetyLabels)
		a := r.mustState(version(allAt(0)))
		noPolicy := r.mustState(version(map[string]int{"gateway.yaml": 0, "vs.yaml": 0}))
		r.start(version(allAt(0)))
		mustDo(t, os.Remove(filepath.Join(r.cfgDir, "policy.yaml")))
		r.writes.Add(1)
		r.waitFor("the configuration without its policy file", noPolicy)

		// Every remaining file at once (rm config/*): every listener of a
		// group with proxies would go.
		since := r.reloads()
		for _, name := range []string{"gateway.yaml", "vs.yaml"} {
			mustDo(t, os.Remove(filepath.Join(r.cfgDir, name)))
			r.writes.Add(1)
		}
		st := r.waitReload(since, func(st server.ReloadStatus) bool { return len(st.Held) > 0 })
		if st.Held[0].Reason != server.HoldNoListeners || st.Held[0].Proxies != 2 {
			t.Errorf("held %+v, want no_listeners with 2 proxies", st.Held)
		}
		figures(t, r, envoytest.NewFullStates(a, noPolicy))
	})

	t.Run("multi-file changes in every order", func(t *testing.T) {
		r := newRig(t, secrets, safetyLabels)
		var states []map[string][]proto.Message
		for combo := range 8 {
			v := map[string]int{}
			for i, name := range safetyNames {
				v[name] = combo >> i & 1
			}
			states = append(states, r.mustState(version(v)))
		}
		r.start(version(allAt(0)))
		orders := permutations(safetyNames)
		// Atomically, file by file, each intermediate state loaded.
		for _, order := range orders {
			for _, to := range []int{1, 0} {
				for _, name := range order {
					since := r.reloads()
					r.replace(name, safetyFiles[name][to])
					r.waitReload(since, func(server.ReloadStatus) bool { return true })
				}
			}
		}
		// In place with stalls, file after file without waiting: no load
		// until every file has settled.
		for i, order := range orders {
			to := 1 - i%2
			for _, name := range order {
				r.writeInPlace(name, safetyFiles[name][to])
			}
			r.waitFor(fmt.Sprintf("every file at %c after %v", 'A'+to, order), states[7*to])
		}
		figures(t, r, envoytest.NewFullStates(states...))
	})

	t.Run("a file replaced by a link to a FIFO", func(t *testing.T) {
		r := newRig(t, secrets, safetyLabels)
		a := r.mustState(version(allAt(0)))
		b := r.mustState(version(map[string]int{"gateway.yaml": 0, "vs.yaml": 1, "policy.yaml": 0}))
		r.start(version(allAt(0)))
		fifo := filepath.Join(t.TempDir(), "fifo")
		mustDo(t, syscall.Mkfifo(fifo, 0o644))
		since := r.reloads()
		link := filepath.Join(r.cfgDir, ".vs.yaml.link")
		mustDo(t, os.Symlink(fifo, link))
		mustDo(t, os.Rename(link, filepath.Join(r.cfgDir, "vs.yaml")))
		r.writes.Add(1)
		st := r.waitReload(since, func(st server.ReloadStatus) bool { return !st.OK })
		if !strings.Contains(strings.Join(st.Errors, "\n"), "vs.yaml is a named pipe (FIFO), not a regular file") {
			t.Errorf("errors %q, want vs.yaml named as a FIFO", st.Errors)
		}
		// The reload did not hang on the FIFO: the next edit goes through.
		r.replace("vs.yaml", safetyFiles["vs.yaml"][1])
		r.waitFor("the edit after the FIFO", b)
		figures(t, r, envoytest.NewFullStates(a, b))
	})

	t.Run("expired CRL swaps", func(t *testing.T) {
		now := time.Now()
		secrets := safetySecrets(t, now)
		r := newRig(t, secrets, safetyLabels)
		files := version(allAt(0))
		crls := func(publish time.Time, days int) (map[string]string, map[string][]proto.Message) {
			mustDo(t, certs.WriteCRLs(secrets, certs.CRLOptions{Days: days, Now: publish}))
			return readCRLs(t, secrets), r.mustState(files)
		}
		// Published 10 days ago for 1 day: expired.
		valid1, validState1 := crls(now.Add(-time.Hour), 30)
		expired, _ := crls(now.Add(-10*24*time.Hour), 1)
		valid2, validState2 := crls(now, 30)
		writeCRLs(t, valid1)
		r.start(files)
		r.waitFor("the first CRL", validState1)

		since := r.reloads()
		writeCRLs(t, expired)
		r.writes.Add(int64(len(expired)))
		st := r.waitReload(since, func(st server.ReloadStatus) bool { return len(st.Held) > 0 })
		if st.Held[0].Reason != server.HoldCRL {
			t.Errorf("held %+v, want crl", st.Held)
		}
		writeCRLs(t, valid2)
		r.writes.Add(int64(len(valid2)))
		r.waitFor("the fresh CRL", validState2)
		figures(t, r, envoytest.NewFullStates(validState1, validState2))
	})

	t.Run("an expired CRL replaces an expired one", func(t *testing.T) {
		now := time.Now()
		secrets := safetySecrets(t, now)
		r := newRig(t, secrets, safetyLabels)
		files := version(allAt(0))
		mustDo(t, certs.WriteCRLs(secrets, certs.CRLOptions{Days: 1, Now: now.Add(-10 * 24 * time.Hour)}))
		expired1, state1 := readCRLs(t, secrets), r.mustState(files)
		mustDo(t, certs.WriteCRLs(secrets, certs.CRLOptions{Days: 1, Now: now.Add(-5 * 24 * time.Hour)}))
		expired2, state2 := readCRLs(t, secrets), r.mustState(files)
		writeCRLs(t, expired1)
		r.start(files)
		writeCRLs(t, expired2)
		r.writes.Add(int64(len(expired2)))
		r.waitFor("the newer expired CRL", state2)
		figures(t, r, envoytest.NewFullStates(state1, state2))
	})
}

// readCRLs returns the CRL files of a secrets directory by path.
func readCRLs(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	mustDo(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p) != "ca.crl" {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	}))
	return out
}

// writeCRLs puts CRL files in place atomically, as a publisher should.
func writeCRLs(t *testing.T, files map[string]string) {
	t.Helper()
	for p, content := range files {
		tmp := filepath.Join(filepath.Dir(p), ".ca.crl.tmp")
		mustDo(t, os.WriteFile(tmp, []byte(content), 0o644))
		mustDo(t, os.Rename(tmp, p))
	}
}

// permutations lists every order of names.
func permutations(names []string) [][]string {
	if len(names) <= 1 {
		return [][]string{slices.Clone(names)}
	}
	var out [][]string
	for i, first := range names {
		rest := slices.Concat(names[:i:i], names[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]string{first}, p...))
		}
	}
	return out
}
