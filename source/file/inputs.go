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

// walkVisible walks a tree as the loader reads it (model's walker): an
// entry below root whose name is hidden (editors' swap files, ".git",
// Kubernetes' "..<timestamp>" directories) is skipped, a hidden directory
// with all it holds; symlinks are followed, a link to a directory walked as
// the directory (a GitOps checkout or a mounted Secret linked into the
// tree), each real directory once, so a link to an ancestor ends. fn sees
// root, every directory and file below it with its entry as os.Stat
// describes it (through links), and the walk's errors with a nil entry.
func walkVisible(root string, fn fs.WalkDirFunc) error {
	st, err := os.Stat(root)
	if err != nil {
		return fn(root, nil, err)
	}
	if err := fn(root, fs.FileInfoToDirEntry(st), nil); err != nil || !st.IsDir() {
		return err
	}
	return walkDir(root, map[string]bool{}, fn)
}

// walkDir is walkVisible below the directory p; seen holds the real paths
// of the directories walked.
func walkDir(p string, seen map[string]bool, fn fs.WalkDirFunc) error {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fn(p, nil, err)
	}
	if seen[real] {
		return nil
	}
	seen[real] = true
	entries, err := os.ReadDir(p)
	if err != nil {
		return fn(p, nil, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		child := filepath.Join(p, e.Name())
		st, err := os.Stat(child)
		if err != nil {
			err = fn(child, nil, err)
		} else if err = fn(child, fs.FileInfoToDirEntry(st), nil); err == nil && st.IsDir() {
			err = walkDir(child, seen, fn)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
