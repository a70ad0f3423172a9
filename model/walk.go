package model

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// collect lists the YAML files under paths, sorted, each once.
//
// A file named explicitly is read whatever its extension; in directories
// only *.yaml and *.yml are. Hidden entries are skipped: a ConfigMap or
// Secret mounted by Kubernetes holds its files in a timestamped
// "..2024_01_01_00_00_00.1" directory, reached through the "..data" symlink
// and, from the top level, through one symlink per key. Reading only the
// top-level names loads each file once, under the name the user knows.
// Symlinked directories are followed; a file reached twice (through links,
// or named twice) is read once.
func (l *loader) collect(paths []string) []string {
	w := walker{l: l, seenFile: map[string]bool{}, seenDir: map[string]bool{}}
	for _, p := range paths {
		p = filepath.Clean(p)
		st, err := os.Stat(p)
		if err != nil {
			l.fileErr(p, 0, "%v", err)
			continue
		}
		if st.IsDir() {
			w.dir(p)
		} else {
			w.file(p)
		}
	}
	sort.Strings(w.files)
	return w.files
}

type walker struct {
	l        *loader
	files    []string
	seenFile map[string]bool // by real path
	seenDir  map[string]bool // by real path, against symlink loops
}

func (w *walker) file(p string) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		w.l.fileErr(p, 0, "%v", err)
		return
	}
	if w.seenFile[real] {
		return
	}
	w.seenFile[real] = true
	w.files = append(w.files, p)
}

func (w *walker) dir(p string) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		w.l.fileErr(p, 0, "%v", err)
		return
	}
	if w.seenDir[real] {
		return
	}
	w.seenDir[real] = true
	entries, err := os.ReadDir(p)
	if err != nil {
		w.l.fileErr(p, 0, "%v", err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		child := filepath.Join(p, name)
		// Stat follows symlinks: a link to a directory is walked, a link
		// to a file is read.
		st, err := os.Stat(child)
		if err != nil {
			w.l.fileErr(child, 0, "%v", err)
			continue
		}
		switch {
		case st.IsDir():
			w.dir(child)
		case isYAMLName(name):
			// A FIFO, device or socket with a YAML name is an error
			// (reported when it is read), not silently skipped.
			w.file(child)
		}
	}
}

func isYAMLName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}
