package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func secretYAML(name string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + "}\n"
}

// symlink makes link point at target, failing the test on error.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestLoadWalk(t *testing.T) {
	tests := map[string]struct {
		setup func(t *testing.T, dir string) []string // returns Paths
		want  []string                                // loaded files (relative to dir), in order
	}{
		"recursive, sorted, yaml only, hidden skipped": {
			setup: func(t *testing.T, dir string) []string {
				writeFiles(t, dir, map[string]string{
					"b.yaml": secretYAML("b"), "a.yml": secretYAML("a"), "sub/c.YAML": secretYAML("c"),
					"notes.txt": "not: yaml", ".hidden/d.yaml": secretYAML("d"), ".e.yaml": secretYAML("e"),
				})
				return []string{dir}
			},
			want: []string{"a.yml", "b.yaml", "sub/c.YAML"},
		},
		"mounted ConfigMap loads each file once": {
			setup: func(t *testing.T, dir string) []string {
				ts := "..2024_01_01_00_00_00.123456789"
				writeFiles(t, dir, map[string]string{
					ts + "/gw.yaml": secretYAML("gw"), ts + "/vs.yaml": secretYAML("vs"),
				})
				symlink(t, ts, filepath.Join(dir, "..data"))
				symlink(t, "..data/gw.yaml", filepath.Join(dir, "gw.yaml"))
				symlink(t, "..data/vs.yaml", filepath.Join(dir, "vs.yaml"))
				return []string{dir}
			},
			want: []string{"gw.yaml", "vs.yaml"},
		},
		"a file named explicitly is read whatever its extension": {
			setup: func(t *testing.T, dir string) []string {
				writeFiles(t, dir, map[string]string{"config.txt": secretYAML("x")})
				return []string{filepath.Join(dir, "config.txt")}
			},
			want: []string{"config.txt"},
		},
		"a file reached twice is read once": {
			setup: func(t *testing.T, dir string) []string {
				writeFiles(t, dir, map[string]string{"a.yaml": secretYAML("a")})
				symlink(t, "a.yaml", filepath.Join(dir, "link.yaml"))
				return []string{dir, filepath.Join(dir, "a.yaml")}
			},
			want: []string{"a.yaml"},
		},
		"a symlink loop ends": {
			setup: func(t *testing.T, dir string) []string {
				writeFiles(t, dir, map[string]string{"a.yaml": secretYAML("a")})
				symlink(t, ".", filepath.Join(dir, "loop"))
				return []string{dir}
			},
			want: []string{"a.yaml"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg, err := Load(LoadOptions{Paths: tc.setup(t, dir)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var got []string
			for _, s := range cfg.Secrets {
				rel, err := filepath.Rel(dir, s.Pos.File)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, filepath.ToSlash(rel))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("loaded files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadMissingPath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	_, err := Load(LoadOptions{Paths: []string{missing}})
	want := []string{"nope: stat " + missing + ": no such file or directory"}
	if diff := cmp.Diff(want, errorLines(err, dir)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
