package file

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// k8sData is the symlink through which Kubernetes exposes a mounted
// ConfigMap or Secret: an update writes a new "..<timestamp>" directory and
// renames a fresh "..data" symlink over the old one, so no file the user
// named is ever written. Watching the directory and reacting to "..data"
// sees the swap; watching the files would not.
const k8sData = "..data"

// watcher reports changes under the configuration paths once they have
// settled; see pending for the rules.
type watcher struct {
	fs       *fsnotify.Watcher
	set      watchSet
	debounce time.Duration
	settle   time.Duration
	log      *slog.Logger
	// pending, when set, holds whether changes wait to be loaded, for
	// reloads started elsewhere (see Source.Settling).
	pending *atomic.Bool
}

func newWatcher(set watchSet, debounce, settle time.Duration, log *slog.Logger) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{fs: fw, set: set, debounce: debounce, settle: settle, log: log}
	w.sync()
	return w, nil
}

// sync (re)adds a watch on every directory of interest: the directory of
// each file, and every directory of each tree except hidden ones (the
// loader skips them; Kubernetes keeps its "..<timestamp>" internals there),
// symlinked ones included, as the loader follows them (walkVisible).
// New directories and directories that came back are picked up; fsnotify
// drops the watches of removed ones by itself.
func (w *watcher) sync() {
	add := func(dir string) {
		if err := w.fs.Add(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.log.Warn("cannot watch directory", "dir", dir, "error", err)
		}
	}
	for f := range w.set.files {
		add(filepath.Dir(f))
	}
	for _, root := range w.set.trees {
		err := walkVisible(root, func(p string, d fs.DirEntry, err error) error {
			// An error: it vanished while walking; the next event resyncs.
			if err == nil && d.IsDir() {
				add(p)
			}
			return nil
		})
		if err != nil {
			w.log.Warn("cannot walk directory", "dir", root, "error", err)
		}
	}
}

// relevant reports whether an event may change the configuration: the
// "..data" swap, a watched file, or a file in a tree that is not hidden
// (editors' swap files, ".git" and Kubernetes' "..<timestamp>" directories
// are hidden, and the loader skips them).
func (w *watcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	base := filepath.Base(ev.Name)
	switch {
	case base == k8sData:
		return true
	case w.set.files[ev.Name]:
		return true
	case strings.HasPrefix(base, "."):
		return false
	}
	for _, root := range w.set.trees {
		if ev.Name == root {
			return true
		}
		rel, ok := strings.CutPrefix(ev.Name, root+string(filepath.Separator))
		if ok && !hiddenPath(rel) {
			return true
		}
	}
	return false
}

// hiddenPath reports whether a relative path has a hidden component.
func hiddenPath(rel string) bool {
	for part := range strings.SplitSeq(rel, string(filepath.Separator)) {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// run calls reload after changes, until ctx ends; see loop.
func (w *watcher) run(ctx context.Context, dropped <-chan struct{}, reload func()) {
	defer func() {
		if err := w.fs.Close(); err != nil {
			w.log.Warn("closing file watcher", "error", err)
		}
	}()
	w.loop(ctx, w.fs.Events, w.fs.Errors, dropped, func() {
		reload()
		w.sync() // directories replaced wholesale come back
	})
}

// loop calls reload when the pending changes are due (pending.due). A
// value on dropped says a load found the files changed while it read
// them; they are then read again once they have settled.
func (w *watcher) loop(ctx context.Context, events <-chan fsnotify.Event, errs <-chan error, dropped <-chan struct{}, reload func()) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	p := newPending()
	arm := func() {
		if w.pending != nil {
			w.pending.Store(!p.empty())
		}
		timer.Reset(max(0, time.Until(p.due(w.debounce, w.settle))))
	}
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-errs:
			if !ok {
				return
			}
			w.log.Warn("file watcher", "error", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Changes were lost: treat it as an unfinished write.
				p.unsettled(overflowMark, time.Now())
				arm()
			}
		case <-dropped:
			p.unsettled(changedMark, time.Now())
			arm()
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
			if ev.Has(fsnotify.Create) && createdEmpty(ev.Name) {
				ev.Op |= fsnotify.Write // see createdEmpty
			}
			p.add(ev, time.Now())
			if p.stalled(10 * w.settle) {
				w.log.Warn("files written in place keep changing; the configuration is read once they have not changed for the settle time",
					"files", p.names(), "settle", w.settle.String(), "since", p.first.Format(time.RFC3339))
			}
			arm()
		case <-timer.C:
			now := time.Now()
			if p.empty() {
				continue
			}
			if due := p.due(w.debounce, w.settle); now.Before(due) {
				timer.Reset(due.Sub(now))
				continue
			}
			if p.writing() {
				w.log.Debug("files written in place have settled", "files", p.names(), "settle", w.settle.String())
			}
			p.reset()
			reload()
			select {
			case <-dropped: // the load just done was dropped
				p.unsettled(changedMark, time.Now())
			default:
			}
			arm()
		}
	}
}

// createdEmpty reports whether a file just created is an empty regular
// file. inotify reports a file renamed into place and a file newly created
// alike (IN_MOVED_TO and IN_CREATE are both fsnotify's Create), and a file
// renamed into place is whole; but one created empty is most likely about
// to be written (open with O_CREAT, then write), and its writes may be
// seen only after the debounce if the writer stalls before the first. It
// counts as written in place, so it waits for the settle time. (Loaded,
// an empty file is refused anyway: to remove a file's objects, delete it.)
func createdEmpty(name string) bool {
	fi, err := os.Lstat(name)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == 0
}

// Marks for unsettled state that is not one file.
const (
	overflowMark = "(file events lost)"
	changedMark  = "(changed while read)"
)

// pending is what changed since the last load, and when.
//
// Reloads are transactions over settled input. An atomic replacement — a
// file renamed into place, a Kubernetes "..data" swap, a removal — is
// complete the moment it is seen, so it is loaded after the debounce (and
// at the latest ten debounces after the first change, so changes that never
// stop still load). A file written in place (a Write event: truncated,
// appended to, rewritten by a non-atomic editor or an interrupted copy) may
// be half-written; it is read only once it has not changed for the settle
// time, however long that takes, so a writer that pauses mid-file for less
// than that never causes a load. A file written and then renamed away
// (write a temporary file, rename it over the real one) was complete when
// renamed: its writes no longer hold the load back.
type pending struct {
	first, last time.Time            // of the changes; zero first: none
	inPlace     map[string]time.Time // files written in place, by their last write
	warned      bool                 // stalled has reported these changes
}

func newPending() *pending { return &pending{inPlace: map[string]time.Time{}} }

func (p *pending) add(ev fsnotify.Event, now time.Time) {
	if p.first.IsZero() {
		p.first = now
	}
	p.last = now
	switch {
	case ev.Has(fsnotify.Write):
		p.inPlace[ev.Name] = now
	case ev.Has(fsnotify.Rename), ev.Has(fsnotify.Remove):
		delete(p.inPlace, ev.Name)
	}
}

// unsettled records a change that must settle like an in-place write.
func (p *pending) unsettled(mark string, now time.Time) {
	if p.first.IsZero() {
		p.first = now
	}
	p.last = now
	p.inPlace[mark] = now
}

func (p *pending) empty() bool   { return p.first.IsZero() }
func (p *pending) writing() bool { return len(p.inPlace) > 0 }

func (p *pending) reset() {
	p.first, p.last, p.warned = time.Time{}, time.Time{}, false
	clear(p.inPlace)
}

// stalled reports, once per batch of changes, that files have been written
// in place for longer than limit without settling.
func (p *pending) stalled(limit time.Duration) bool {
	if p.warned || !p.writing() || p.last.Sub(p.first) < limit {
		return false
	}
	p.warned = true
	return true
}

// due is when the changes may be loaded.
func (p *pending) due(debounce, settle time.Duration) time.Time {
	if !p.writing() {
		return p.last.Add(min(debounce, p.first.Add(10*debounce).Sub(p.last)))
	}
	var latest time.Time
	for _, at := range p.inPlace {
		latest = later(latest, at)
	}
	return later(p.last.Add(debounce), latest.Add(settle))
}

// names lists the files written in place.
func (p *pending) names() []string {
	out := make([]string, 0, len(p.inPlace))
	for n := range p.inPlace {
		out = append(out, n)
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
