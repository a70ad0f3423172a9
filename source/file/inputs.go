package file

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// watchSet is what the source watches and a load reads: files named directly, and
// directory trees (the configuration directories and the secrets
// directories), all absolute.
type watchSet struct {
	files map[string]bool
	trees []string
}

func newWatchSet(paths, secretsDirs []string) (watchSet, error) {
	w := watchSet{files: map[string]bool{}}
	for _, p := range append(paths[:len(paths):len(paths)], secretsDirs...) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return w, err
		}
		if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
			w.trees = append(w.trees, abs)
		} else {
			// A file, or a path not there yet: watch its directory.
			w.files[abs] = true
		}
	}
	return w, nil
}

func (w watchSet) empty() bool { return len(w.files) == 0 && len(w.trees) == 0 }

// stamp is what a load must find unchanged in a file for the load to
// stand: its size, modification time, type and identity (inode).
type stamp struct {
	size  int64
	mod   int64
	mode  fs.FileMode
	id    uint64
	error string // the file could not be stat'ed
}

// stamps records every file a load may read: the named files and every
// file of the trees that is not hidden, through symlinks as the loader
// follows them. It only stats; it never opens a file, so a FIFO or device
// costs nothing.
func (w watchSet) stamps() map[string]stamp {
	out := map[string]stamp{}
	for f := range w.files {
		out[f] = stampOf(f)
	}
	for _, root := range w.trees {
		// Errors mean a path vanished while walking: its absence, or the
		// stamps of what replaced it, differ from the other walk.
		_ = walkVisible(root, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				out[p] = stamp{error: err.Error()}
			case !d.IsDir():
				out[p] = stampOf(p)
			}
			return nil
		})
	}
	return out
}

func stampOf(path string) stamp {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{error: err.Error()}
	}
	return stamp{size: fi.Size(), mod: fi.ModTime().UnixNano(), mode: fi.Mode(), id: fileID(fi)}
}

// changedFiles lists the files whose stamps differ, sorted.
func changedFiles(before, after map[string]stamp) []string {
	var out []string
	for p, s := range before {
		if a, ok := after[p]; !ok || a != s {
			out = append(out, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sameStamps reports whether no file changed between two stamps.
func sameStamps(a, b map[string]stamp) bool { return maps.Equal(a, b) }

// walkVisible walks a tree as the loader reads it: an entry below root
// whose name is hidden (editors' swap files, ".git", Kubernetes'
// "..<timestamp>" directories) is skipped, a hidden directory with all it
// holds. fn sees everything else, and the walk's errors.
func walkVisible(root string, fn fs.WalkDirFunc) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return fn(p, d, err)
	})
}
