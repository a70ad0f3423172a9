package server_test

// The fleet of the ADS benchmarks: fake Envoys (envoytest) run in a child
// process, so the timings and heap figures are the server's own.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/xds/server/envoytest"
)

type fleet struct {
	spec    fleetSpec
	clients []*envoytest.Client
}

// dial connects the fleet's proxies, parallel at a time, and waits until each
// holds a complete configuration.
func (f *fleet) dial(n, parallel int) error {
	f.clients = make([]*envoytest.Client, n)
	errs := make([]error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := envoytest.Dial(context.Background(), f.spec.Addr, envoytest.Options{
				NodeID: fmt.Sprintf("gw-%04d", f.spec.First+i), Labels: benchLabels, Delta: f.spec.Delta,
			})
			if err != nil {
				errs[i] = err
				return
			}
			f.clients[i] = c
			_, errs[i] = c.WaitComplete(fleetTimeout)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return errors.Join(err, f.close())
	}
	return nil
}

// each runs fn on every client at once and joins the errors.
func (f *fleet) each(fn func(*envoytest.Client) error) error {
	errs := make([]error, len(f.clients))
	var wg sync.WaitGroup
	for i, c := range f.clients {
		if c != nil {
			wg.Go(func() { errs[i] = fn(c) })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (f *fleet) close() error {
	err := f.each((*envoytest.Client).Close)
	f.clients = nil
	return err
}

// reconnect makes every client drop its stream and resume at once,
// presenting what it holds, as Envoys do when their control plane restarts.
func (f *fleet) reconnect() error {
	return f.each(func(c *envoytest.Client) error { return c.Reconnect(context.Background()) })
}

// fleetEnv, when set in the environment, makes the test binary a remote
// fleet (see TestMain); its value is a JSON fleetSpec.
const fleetEnv = "TRUSTGATE_BENCH_FLEET"

// fleetSpec describes a remote fleet: Proxies fake Envoys named gw-<First+i>.
type fleetSpec struct {
	Addr           string
	First, Proxies int
	Delta          bool
}

// TestMain runs the tests, or, in a child started by startRemoteFleet, a
// fleet of fake Envoys driven over stdin and stdout.
func TestMain(m *testing.M) {
	if spec := os.Getenv(fleetEnv); spec != "" {
		if err := runFleet(spec, os.Stdin, os.Stdout); err != nil {
			fmt.Printf("error: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runFleet connects the fleet, writes "ready <live heap per proxy>", then
// answers each command ("drop", "dial", "reconnect") with "ok" until its
// input ends.
func runFleet(spec string, in io.Reader, out io.Writer) error {
	var s fleetSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		return err
	}
	base := heapAfterGC()
	f := &fleet{spec: s}
	if err := f.dial(s.Proxies, 64); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(out, "ready %d\n", (heapAfterGC().live-base.live)/int64(s.Proxies)); err != nil {
		return errors.Join(err, f.close())
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var err error
		switch sc.Text() {
		case "drop":
			err = f.close()
		case "dial":
			err = f.dial(s.Proxies, s.Proxies) // all at once
		case "reconnect":
			err = f.reconnect()
		default:
			err = fmt.Errorf("unknown command %q", sc.Text())
		}
		if err == nil {
			_, err = fmt.Fprintln(out, "ok")
		}
		if err != nil {
			return errors.Join(err, f.close())
		}
	}
	return errors.Join(sc.Err(), f.close())
}

// remoteFleet is a fleet in a child process: this test binary again, with
// fleetEnv set.
type remoteFleet struct {
	cmd         *exec.Cmd
	in          io.WriteCloser
	out         *bufio.Scanner
	clientBytes int64 // the child's live heap per proxy
	stopOnce    sync.Once
	stopErr     error
}

// startRemoteFleet starts a fleet of n proxies named from gw-<first>, at the
// lowest CPU priority so that the server runs first whenever both want a
// core, and waits until each holds a complete configuration and the server
// is quiet; the fleet is stopped when b ends.
func startRemoteFleet(b *testing.B, bs *benchServer, first, n int, delta bool) *remoteFleet {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	open := bs.meter.streams()
	spec, err := json.Marshal(fleetSpec{Addr: bs.addr, First: first, Proxies: n, Delta: delta})
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("nice", "-n", "19", exe)
	cmd.Env = append(os.Environ(), fleetEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	f := &remoteFleet{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	b.Cleanup(func() {
		if err := f.stop(); err != nil {
			b.Errorf("stopping the fleet: %v", err)
		}
	})
	line, err := f.reply()
	if err == nil {
		_, err = fmt.Sscanf(line, "ready %d", &f.clientBytes)
	}
	if err != nil {
		b.Fatal(err)
	}
	waitStreams(b, bs.meter, open+n)
	waitQuiet(b, bs.meter)
	return f
}

func (f *remoteFleet) reply() (string, error) {
	if !f.out.Scan() {
		return "", errors.Join(errors.New("the fleet process ended"), f.out.Err())
	}
	if line := f.out.Text(); !strings.HasPrefix(line, "error: ") {
		return line, nil
	}
	return "", errors.New(f.out.Text())
}

// do sends a command and waits for its "ok".
func (f *remoteFleet) do(cmd string) error {
	if _, err := fmt.Fprintln(f.in, cmd); err != nil {
		return err
	}
	line, err := f.reply()
	if err == nil && line != "ok" {
		err = fmt.Errorf("fleet answered %q to %q", line, cmd)
	}
	return err
}

// stop closes the child's input, which closes its fleet, and waits for it.
func (f *remoteFleet) stop() error {
	f.stopOnce.Do(func() { f.stopErr = errors.Join(f.in.Close(), f.cmd.Wait()) })
	return f.stopErr
}

// waitStreams waits until the server has n ADS streams open. It polls:
// streams close on the server a little after the client hangs up.
func waitStreams(b *testing.B, m *meter, n int) {
	b.Helper()
	deadline := time.Now().Add(fleetTimeout)
	for m.streams() != n {
		if time.Now().After(deadline) {
			b.Fatalf("%d ADS streams open, want %d", m.streams(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitQuiet waits until no ADS message was sent or received for a while:
// the last ACKs of a fleet that just completed are processed.
func waitQuiet(b *testing.B, m *meter) {
	b.Helper()
	const quiet = 200 * time.Millisecond
	deadline := time.Now().Add(fleetTimeout)
	for {
		m.mu.Lock()
		idle := time.Since(m.last)
		m.mu.Unlock()
		if idle >= quiet {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("the ADS streams never went quiet")
		}
		time.Sleep(quiet - idle)
	}
}

// heap is the heap in use (MemStats.HeapInuse, read without stopping the
// world) and the live objects found by the last GC: unlike the heap in use,
// they do not count free space in spans that also hold live objects.
