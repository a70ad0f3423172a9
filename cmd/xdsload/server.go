package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverProc is `trustgate serve` run as a child on loopback.
type serverProc struct {
	cmd      *exec.Cmd
	xds      string // host:port
	admin    string // http://host:port
	pprof    string // http://host:port of TRUSTGATE_PPROF_ADDR; "" when not served
	groupKey string
	exited   chan error
	spec     serverSpec // what started it, to start it again (restart); zero: not restartable
	readyAt  time.Time  // when /readyz first answered 200
	stopped  bool
}

// freePort returns a loopback port nothing listens on now.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// serverSpec is what startServer runs: the trustgate binary, the
// configuration and secrets, the group the clients join, and where the
// server's log goes.
type serverSpec struct {
	bin, config, secrets, groupKey string
	log                            io.Writer
	// clients is how many connections the server must take (its
	// --max-connections default, 4096, is below the tool's bound).
	clients int
	// xds is the ADS address to listen on, host:port; "" picks a free
	// port. A restarted server listens where the clients dial.
	xds string
}

// startServer runs bin serve on the configuration and waits until it is
// ready.
func startServer(ctx context.Context, spec serverSpec) (*serverProc, error) {
	bin, config, secrets, groupKey, log := spec.bin, spec.config, spec.secrets, spec.groupKey, spec.log
	xds := spec.xds
	if xds == "" {
		var err error
		if xds, err = freePort(); err != nil {
			return nil, err
		}
	}
	admin, err := freePort()
	if err != nil {
		return nil, err
	}
	pprof, err := freePort()
	if err != nil {
		return nil, err
	}
	// bin is the trustgate binary the user names (-trustgate): running it is
	// the tool's purpose.
	cmd := exec.Command(bin, "serve", //nolint:gosec // G204: see above
		"--config", config, "--secrets-dir", secrets,
		"--xds-addr", xds, "--admin-addr", admin, "--log-level", "warn",
		"--max-connections", strconv.Itoa(max(spec.clients+64, 4096)))
	cmd.Env = append(os.Environ(), "TRUSTGATE_PPROF_ADDR="+pprof)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	s := &serverProc{cmd: cmd, xds: xds, admin: "http://" + admin, pprof: "http://" + pprof, groupKey: groupKey, exited: exited, spec: spec}
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if code, err := s.get(ctx, "/readyz", nil); err == nil && code == http.StatusOK {
			s.readyAt = time.Now() // before heapInuse's collection
			if _, err := s.heapInuse(ctx); err != nil {
				s.pprof = "" // a trustgate without TRUSTGATE_PPROF_ADDR: RSS only
			}
			return s, nil
		}
		select {
		case err := <-s.exited:
			return nil, fmt.Errorf("trustgate serve exited before it was ready: %v", err)
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), s.stop())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, errors.Join(errors.New("trustgate serve was not ready within 2 minutes"), s.stop())
		}
	}
}

// get fetches an admin path, decoding JSON into out when given.
func (s *serverProc) get(ctx context.Context, path string, out any) (int, error) {
	return fetch(ctx, s.admin+path, out)
}

// heapInuse is the server's heap in use after a collection (cmd/trustgate
// profile.go's /debug/heap), or 0 when not served.
func (s *serverProc) heapInuse(ctx context.Context) (int64, error) {
	if s.pprof == "" {
		return 0, nil
	}
	var h struct {
		HeapInuse int64 `json:"heap_inuse"`
	}
	if _, err := fetch(ctx, s.pprof+"/debug/heap", &h); err != nil {
		return 0, err
	}
	return h.HeapInuse, nil
}

// heapProfile writes the server's heap profile, after a GC, to path.
func (s *serverProc) heapProfile(ctx context.Context, path string) error {
	return s.profile(ctx, "heap?gc=1", path)
}

// profile writes the server's /debug/pprof/<query> to path.
func (s *serverProc) profile(ctx context.Context, query, path string) error {
	if s.pprof == "" {
		return errors.New("the server does not serve TRUSTGATE_PPROF_ADDR")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.pprof+"/debug/pprof/"+query, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // read in full above or abandoned: nothing to report
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s profile: %s", query, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

// httpGet is a GET of url bound to ctx; the caller closes the body.
func httpGet(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

func fetch(ctx context.Context, url string, out any) (int, error) {
	resp, err := httpGet(ctx, url)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }() // read in full above or abandoned: nothing to report
	if out != nil && resp.StatusCode == http.StatusOK {
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, err
}

// reloadStatus is the part of /debug/reload the tool reads.
type reloadStatus struct {
	At       time.Time `json:"at"`
	Duration string    `json:"duration"`
	Reloads  int       `json:"reloads"`
	Groups   []struct {
		Group    string            `json:"group"`
		Versions map[string]string `json:"versions"`
	} `json:"groups"`
}

// versions returns the group's versions by type URL, and the last reload.
func (s *serverProc) versions(ctx context.Context) (map[string]string, reloadStatus, error) {
	var st reloadStatus
	if _, err := s.get(ctx, "/debug/reload", &st); err != nil {
		return nil, st, err
	}
	for _, g := range st.Groups {
		if g.Group == s.groupKey {
			out := map[string]string{}
			for short, v := range g.Versions {
				if t, ok := typeURLs[short]; ok {
					out[t] = v
				}
			}
			return out, st, nil
		}
	}
	return nil, st, fmt.Errorf("group %q is not served", s.groupKey)
}

// usage is the server's CPU time and memory.
type usage struct {
	cpu      time.Duration // user + system
	rss, hwm int64         // resident now and at its peak, bytes
	// faults counts minor page faults: first touches of memory, which on
	// some virtual machines cost more than the work that touches it
	// (docs/performance.md, "Sitting F").
	faults int64
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

func (s *serverProc) usage() (usage, error) {
	pid := s.cmd.Process.Pid
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, err
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	if len(f) < 13 {
		return usage{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	minflt, err0 := strconv.ParseInt(f[7], 10, 64)
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err0, err1, err2); err != nil {
		return usage{}, err
	}
	u := usage{cpu: time.Duration(utime+stime) * clockTick, faults: minflt}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return usage{}, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch {
		case k == "VmRSS" && err == nil:
			u.rss = kb << 10
		case k == "VmHWM" && err == nil:
			u.hwm = kb << 10
		}
	}
	return u, nil
}

// stop ends the server (SIGTERM, then SIGKILL after 10s) and waits for it;
// once stopped, it does nothing.
func (s *serverProc) stop() error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-s.exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil // a signal ended it, as asked
		}
		return err
	case <-time.After(10 * time.Second):
		return errors.Join(errors.New("trustgate serve did not stop on SIGTERM"), s.cmd.Process.Kill())
	}
}
