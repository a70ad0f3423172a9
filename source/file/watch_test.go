package file

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestWatcherRelevant(t *testing.T) {
	root := t.TempDir()
	cfgDir := filepath.Join(root, "cfg")
	tree := filepath.Join(root, "tree")
	file := filepath.Join(cfgDir, "gateway.yaml")
	w := &watcher{set: watchSet{files: map[string]bool{file: true}, trees: []string{tree}}}
	tests := map[string]struct {
		ev   fsnotify.Event
		want bool
	}{
		"watched file written":         {fsnotify.Event{Name: file, Op: fsnotify.Write}, true},
		"watched file replaced":        {fsnotify.Event{Name: file, Op: fsnotify.Create}, true},
		"watched file removed":         {fsnotify.Event{Name: file, Op: fsnotify.Remove}, true},
		"watched file chmod":           {fsnotify.Event{Name: file, Op: fsnotify.Chmod}, false},
		"sibling of a watched file":    {fsnotify.Event{Name: filepath.Join(cfgDir, "notes.txt"), Op: fsnotify.Write}, false},
		"temporary file beside one":    {fsnotify.Event{Name: file + ".tmp", Op: fsnotify.Write}, false},
		"kubernetes ..data swapped":    {fsnotify.Event{Name: filepath.Join(cfgDir, "..data"), Op: fsnotify.Create}, true},
		"kubernetes ..data in a tree":  {fsnotify.Event{Name: filepath.Join(tree, "..data"), Op: fsnotify.Rename}, true},
		"kubernetes timestamped dir":   {fsnotify.Event{Name: filepath.Join(tree, "..2026_01_01_00_00_00.1"), Op: fsnotify.Create}, false},
		"kubernetes ..data_tmp":        {fsnotify.Event{Name: filepath.Join(tree, "..data_tmp"), Op: fsnotify.Create}, false},
		"file in a tree":               {fsnotify.Event{Name: filepath.Join(tree, "a", "vs.yaml"), Op: fsnotify.Write}, true},
		"new directory in a tree":      {fsnotify.Event{Name: filepath.Join(tree, "new"), Op: fsnotify.Create}, true},
		"path sharing a tree's prefix": {fsnotify.Event{Name: tree + "2/x.yaml", Op: fsnotify.Write}, false},
		"editor swap file in a tree":   {fsnotify.Event{Name: filepath.Join(tree, ".vs.yaml.swp"), Op: fsnotify.Write}, false},
		"file in a hidden directory":   {fsnotify.Event{Name: filepath.Join(tree, ".git", "index"), Op: fsnotify.Write}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := w.relevant(tc.ev); got != tc.want {
				t.Errorf("relevant(%v) = %v, want %v", tc.ev, got, tc.want)
			}
		})
	}
}

// TestPendingDue: atomic changes are due a debounce after the last (ten
// after the first at the latest); files written in place a settle time
// after their last write, however long that takes; a file written and then
// renamed away or removed no longer holds the load back.
func TestPendingDue(t *testing.T) {
	const debounce, settle = 100 * time.Millisecond, time.Second
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ev := func(name string, op fsnotify.Op) fsnotify.Event { return fsnotify.Event{Name: name, Op: op} }
	type step struct {
		ms int
		ev fsnotify.Event
	}
	tests := map[string]struct {
		steps []step
		want  time.Time
	}{
		"a rename into place": {
			steps: []step{{0, ev("/c/gw.yaml", fsnotify.Create)}},
			want:  at(100),
		},
		"a Kubernetes ..data swap": {
			steps: []step{{0, ev("/c/..data", fsnotify.Create)}, {1, ev("/c/..data_tmp", fsnotify.Rename)}},
			want:  at(101),
		},
		"atomic changes that never stop": {
			steps: []step{{0, ev("/c/a.yaml", fsnotify.Create)}, {90, ev("/c/b.yaml", fsnotify.Create)}, {180, ev("/c/a.yaml", fsnotify.Create)},
				{270, ev("/c/b.yaml", fsnotify.Create)}, {360, ev("/c/a.yaml", fsnotify.Create)}, {450, ev("/c/b.yaml", fsnotify.Create)},
				{540, ev("/c/a.yaml", fsnotify.Create)}, {630, ev("/c/b.yaml", fsnotify.Create)}, {720, ev("/c/a.yaml", fsnotify.Create)},
				{810, ev("/c/b.yaml", fsnotify.Create)}, {900, ev("/c/a.yaml", fsnotify.Create)}, {990, ev("/c/b.yaml", fsnotify.Create)}},
			want: at(1000),
		},
		"a write in place": {
			steps: []step{{0, ev("/c/gw.yaml", fsnotify.Write)}},
			want:  at(1000),
		},
		"a writer that stalls mid-file": {
			steps: []step{{0, ev("/c/gw.yaml", fsnotify.Write)}, {900, ev("/c/gw.yaml", fsnotify.Write)}, {1800, ev("/c/gw.yaml", fsnotify.Write)}},
			want:  at(2800),
		},
		"an atomic change while another file is written in place": {
			steps: []step{{0, ev("/c/policy.yaml", fsnotify.Write)}, {500, ev("/c/gw.yaml", fsnotify.Create)}},
			want:  at(1000),
		},
		"a temporary file written, then renamed into place": {
			steps: []step{{0, ev("/c/gw.yaml.tmp", fsnotify.Create)}, {1, ev("/c/gw.yaml.tmp", fsnotify.Write)}, {300, ev("/c/gw.yaml.tmp", fsnotify.Write)},
				{301, ev("/c/gw.yaml.tmp", fsnotify.Rename)}, {301, ev("/c/gw.yaml", fsnotify.Create)}},
			want: at(401),
		},
		"a file written, then removed": {
			steps: []step{{0, ev("/c/old.yaml", fsnotify.Write)}, {10, ev("/c/old.yaml", fsnotify.Remove)}},
			want:  at(110),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := newPending()
			for _, s := range tc.steps {
				p.add(s.ev, at(s.ms))
			}
			if got := p.due(debounce, settle); !got.Equal(tc.want) {
				t.Errorf("due at +%v, want +%v", got.Sub(t0), tc.want.Sub(t0))
			}
		})
	}
}

// loopHarness runs watcher.loop on channels the test feeds.
type loopHarness struct {
	tree    string
	events  chan fsnotify.Event
	dropped chan struct{}
	reloads atomic.Int32
	retry   atomic.Bool // whether a reload is dropped (its files changed while read)
	mu      sync.Mutex
	at      []time.Time // of each reload
	cancel  context.CancelFunc
	done    chan struct{}
}

func startLoop(t *testing.T, debounce, settle time.Duration) *loopHarness {
	t.Helper()
	tree := t.TempDir()
	w := &watcher{set: watchSet{trees: []string{tree}}, debounce: debounce, settle: settle, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := &loopHarness{tree: tree, events: make(chan fsnotify.Event), dropped: make(chan struct{}, 1), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		w.loop(ctx, h.events, make(chan error), h.dropped, func() {
			h.mu.Lock()
			h.at = append(h.at, time.Now())
			h.mu.Unlock()
			h.reloads.Add(1)
			if h.retry.Load() {
				h.dropped <- struct{}{} // as Source.Load does
			}
		})
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *loopHarness) stop() {
	h.cancel()
	<-h.done
}

// send delivers an event about a file of the watched tree.
func (h *loopHarness) send(name string, op fsnotify.Op) {
	h.events <- fsnotify.Event{Name: filepath.Join(h.tree, name), Op: op} // unbuffered: received before the next
}

func TestWatcherLoop(t *testing.T) {
	t.Run("a burst of atomic changes is one reload, without waiting to settle", func(t *testing.T) {
		h := startLoop(t, 50*time.Millisecond, time.Hour)
		start := time.Now()
		for range 5 {
			h.send("a.yaml", fsnotify.Create)
		}
		waitFor(t, func() bool { return h.reloads.Load() >= 1 })
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("the atomic change was read after %v", took)
		}
		time.Sleep(150 * time.Millisecond) // a second reload would come within 3 debounces
		if n := h.reloads.Load(); n != 1 {
			t.Errorf("%d reloads, want 1", n)
		}
	})
	t.Run("writes in place with pauses shorter than the settle time are read once, after it", func(t *testing.T) {
		const settle = 300 * time.Millisecond
		h := startLoop(t, 10*time.Millisecond, settle)
		var last time.Time
		for range 4 {
			h.send("gw.yaml", fsnotify.Write)
			last = time.Now()
			time.Sleep(settle / 3)
			if n := h.reloads.Load(); n != 0 {
				t.Fatalf("a reload %v after a write in place, before the settle time", time.Since(last))
			}
		}
		waitFor(t, func() bool { return h.reloads.Load() >= 1 })
		h.mu.Lock()
		waited := h.at[0].Sub(last)
		h.mu.Unlock()
		if waited < settle {
			t.Errorf("read %v after the last write, want at least %v", waited, settle)
		}
	})
	t.Run("a file created empty is being written: it is read once settled, not a debounce after", func(t *testing.T) {
		const settle = 300 * time.Millisecond
		h := startLoop(t, 10*time.Millisecond, settle)
		f, err := os.Create(filepath.Join(h.tree, "new.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		h.send("new.yaml", fsnotify.Create)
		created := time.Now()
		time.Sleep(settle / 2) // the writer stalls before its first write
		if n := h.reloads.Load(); n != 0 {
			t.Fatalf("an empty file just created was read %v after", time.Since(created))
		}
		if _, err := f.WriteString("kind: Gateway\n"); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		h.send("new.yaml", fsnotify.Write)
		wrote := time.Now()
		waitFor(t, func() bool { return h.reloads.Load() >= 1 })
		h.mu.Lock()
		waited := h.at[0].Sub(wrote)
		h.mu.Unlock()
		if waited < settle {
			t.Errorf("read %v after the write, want at least %v", waited, settle)
		}
	})
	t.Run("a file renamed into place is read a debounce after", func(t *testing.T) {
		h := startLoop(t, 10*time.Millisecond, time.Hour)
		if err := os.WriteFile(filepath.Join(h.tree, "gw.yaml"), []byte("kind: Gateway\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		h.send("gw.yaml", fsnotify.Create)
		waitFor(t, func() bool { return h.reloads.Load() >= 1 })
	})
	t.Run("files that changed while read are read again after the settle time", func(t *testing.T) {
		h := startLoop(t, 10*time.Millisecond, 100*time.Millisecond)
		h.retry.Store(true)
		h.send("gw.yaml", fsnotify.Create)
		waitFor(t, func() bool { return h.reloads.Load() >= 1 })
		h.retry.Store(false)
		waitFor(t, func() bool { return h.reloads.Load() >= 2 })
		h.mu.Lock()
		gap := h.at[1].Sub(h.at[0])
		h.mu.Unlock()
		if gap < 100*time.Millisecond {
			t.Errorf("read again after %v, want at least the settle time", gap)
		}
	})
}

const timeoutForTests = 10 * time.Second

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeoutForTests)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

// runWatcher runs a watcher on set (debounce 10 ms, settle 50 ms) until
// the test ends, and counts its reloads.
func runWatcher(t *testing.T, set watchSet) *atomic.Int32 {
	t.Helper()
	w, err := newWatcher(set, 10*time.Millisecond, 50*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	reloads := new(atomic.Int32)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx, make(chan struct{}), func() { reloads.Add(1) })
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return reloads
}

func TestWatcherFollowsNewDirectories(t *testing.T) {
	tree := t.TempDir()
	reloads := runWatcher(t, watchSet{files: map[string]bool{}, trees: []string{tree}})
	sub := filepath.Join(tree, "team-a")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return reloads.Load() >= 1 })
	// The new directory is watched now: a file written inside it reloads.
	before := reloads.Load()
	if err := os.WriteFile(filepath.Join(sub, "vs.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return reloads.Load() > before })
}
