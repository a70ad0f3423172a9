package server

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	w := &watcher{files: map[string]bool{file: true}, trees: []string{tree}}
	tests := map[string]struct {
		ev   fsnotify.Event
		want bool
	}{
		"watched file written":         {fsnotify.Event{Name: file, Op: fsnotify.Write}, true},
		"watched file replaced":        {fsnotify.Event{Name: file, Op: fsnotify.Create}, true},
		"watched file removed":         {fsnotify.Event{Name: file, Op: fsnotify.Remove}, true},
		"watched file chmod":           {fsnotify.Event{Name: file, Op: fsnotify.Chmod}, false},
		"sibling of a watched file":    {fsnotify.Event{Name: filepath.Join(cfgDir, "notes.txt"), Op: fsnotify.Write}, false},
		"kubernetes ..data swapped":    {fsnotify.Event{Name: filepath.Join(cfgDir, "..data"), Op: fsnotify.Create}, true},
		"kubernetes ..data in a tree":  {fsnotify.Event{Name: filepath.Join(tree, "..data"), Op: fsnotify.Rename}, true},
		"kubernetes timestamped dir":   {fsnotify.Event{Name: filepath.Join(tree, "..2026_01_01_00_00_00.1"), Op: fsnotify.Create}, false},
		"kubernetes ..data_tmp":        {fsnotify.Event{Name: filepath.Join(tree, "..data_tmp"), Op: fsnotify.Create}, false},
		"file in a tree":               {fsnotify.Event{Name: filepath.Join(tree, "a", "vs.yaml"), Op: fsnotify.Write}, true},
		"new directory in a tree":      {fsnotify.Event{Name: filepath.Join(tree, "new"), Op: fsnotify.Create}, true},
		"path sharing a tree's prefix": {fsnotify.Event{Name: tree + "2/x.yaml", Op: fsnotify.Write}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := w.relevant(tc.ev); got != tc.want {
				t.Errorf("relevant(%v) = %v, want %v", tc.ev, got, tc.want)
			}
		})
	}
}

func TestWatcherDebounce(t *testing.T) {
	tree := t.TempDir()
	ev := fsnotify.Event{Name: filepath.Join(tree, "a.yaml"), Op: fsnotify.Write}
	tests := map[string]struct {
		debounce time.Duration
		// send delivers events; it returns when the test may stop looking.
		send func(events chan<- fsnotify.Event, reloads *atomic.Int32)
		want func(n int32) bool
		says string
	}{
		"a burst is one reload": {
			debounce: 200 * time.Millisecond,
			send: func(events chan<- fsnotify.Event, reloads *atomic.Int32) {
				for range 5 {
					events <- ev // unbuffered: received before the next
				}
				waitFor(t, func() bool { return reloads.Load() >= 1 })
			},
			want: func(n int32) bool { return n == 1 },
			says: "exactly one reload",
		},
		"changes that never stop still reload": {
			debounce: 10 * time.Millisecond,
			send: func(events chan<- fsnotify.Event, reloads *atomic.Int32) {
				deadline := time.Now().Add(timeoutForTests)
				for reloads.Load() == 0 && time.Now().Before(deadline) {
					events <- ev
					time.Sleep(2 * time.Millisecond) // changes keep coming, faster than the debounce
				}
			},
			want: func(n int32) bool { return n >= 1 },
			says: "a reload while changes continue",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := &watcher{trees: []string{tree}, debounce: tc.debounce, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			events, errs := make(chan fsnotify.Event), make(chan error)
			var reloads atomic.Int32
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				w.loop(ctx, events, errs, func() { reloads.Add(1) })
			}()
			tc.send(events, &reloads)
			cancel()
			<-done
			if n := reloads.Load(); !tc.want(n) {
				t.Errorf("got %d reloads, want %s", n, tc.says)
			}
		})
	}
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

func TestWatcherFollowsNewDirectories(t *testing.T) {
	tree := t.TempDir()
	w, err := newWatcher([]string{tree}, "", 10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var reloads atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx, func() { reloads.Add(1) })
	}()
	defer func() {
		cancel()
		<-done
	}()
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
