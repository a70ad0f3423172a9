package server

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// k8sData is the symlink through which Kubernetes exposes a mounted
// ConfigMap or Secret: an update writes a new "..<timestamp>" directory and
// renames a fresh "..data" symlink over the old one, so no file the user
// named is ever written. Watching the directory and reacting to "..data"
// sees the swap; watching the files would not.
const k8sData = "..data"

// watcher reports changes under the configuration paths, debounced.
type watcher struct {
	fs       *fsnotify.Watcher
	files    map[string]bool // watched files, absolute
	trees    []string        // directories watched recursively, absolute
	debounce time.Duration
	log      *slog.Logger
}

func newWatcher(paths []string, secretsDir string, debounce time.Duration, log *slog.Logger) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{fs: fw, files: map[string]bool{}, debounce: debounce, log: log}
	if secretsDir != "" {
		paths = append(paths[:len(paths):len(paths)], secretsDir)
	}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, errors.Join(err, fw.Close())
		}
		if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
			w.trees = append(w.trees, abs)
		} else {
			// A file, or a path not there yet: watch its directory.
			w.files[abs] = true
		}
	}
	w.sync()
	return w, nil
}

// sync (re)adds a watch on every directory of interest: the directory of
// each file, and every directory of each tree except Kubernetes' "..*"
// internals. New directories and directories that came back are picked up;
// fsnotify drops the watches of removed ones by itself.
func (w *watcher) sync() {
	add := func(dir string) {
		if err := w.fs.Add(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.log.Warn("cannot watch directory", "dir", dir, "error", err)
		}
	}
	for f := range w.files {
		add(filepath.Dir(f))
	}
	for _, root := range w.trees {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return nil // vanished while walking; the next event resyncs
			case !d.IsDir():
				return nil
			case p != root && strings.HasPrefix(d.Name(), ".."):
				return filepath.SkipDir
			}
			add(p)
			return nil
		})
		if err != nil {
			w.log.Warn("cannot walk directory", "dir", root, "error", err)
		}
	}
}

// relevant reports whether an event may change the configuration.
func (w *watcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	base := filepath.Base(ev.Name)
	switch {
	case base == k8sData:
		return true
	case strings.HasPrefix(base, ".."):
		return false // Kubernetes' timestamped directories and ..data_tmp
	case w.files[ev.Name]:
		return true
	}
	for _, root := range w.trees {
		if ev.Name == root || strings.HasPrefix(ev.Name, root+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// run calls reload after changes, until ctx ends; see loop.
func (w *watcher) run(ctx context.Context, reload func()) {
	defer func() {
		if err := w.fs.Close(); err != nil {
			w.log.Warn("closing file watcher", "error", err)
		}
	}()
	w.loop(ctx, w.fs.Events, w.fs.Errors, func() {
		reload()
		w.sync() // directories replaced wholesale come back
	})
}

// loop calls reload once the relevant events have been quiet for the
// debounce time, but at the latest ten debounce times after the first of
// them, so a file rewritten continuously still gets loaded.
func (w *watcher) loop(ctx context.Context, events <-chan fsnotify.Event, errs <-chan error, reload func()) {
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	var first time.Time // of the pending changes; zero when none
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-errs:
			if !ok {
				return
			}
			w.log.Warn("file watcher", "error", err)
		case ev, ok := <-events:
			if !ok {
				return
			}
			if !w.relevant(ev) {
				continue
			}
			w.log.Debug("configuration changed", "event", ev.String())
			if ev.Has(fsnotify.Create) && w.fs != nil {
				w.sync() // a new directory in a tree
			}
			now := time.Now()
			if first.IsZero() {
				first = now
			}
			quiet.Reset(min(w.debounce, first.Add(10*w.debounce).Sub(now)))
		case <-quiet.C:
			first = time.Time{}
			reload()
		}
	}
}
