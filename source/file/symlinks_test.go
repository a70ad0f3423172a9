package file

import (
	"os"
	"path/filepath"
	"testing"
)

// symlinkedTree makes root/tree holding "team-a", a symlink to a directory
// outside the tree (root/elsewhere/team-a) that holds vs.yaml, as a GitOps
// checkout linked into the configuration directory, or a mounted Secret
// linked into the secrets directory, is laid out. It returns the tree and
// the file as the loader reads it (through the link) and as written.
func symlinkedTree(t *testing.T) (tree, viaLink, real string) {
	t.Helper()
	root := t.TempDir()
	tree, target := filepath.Join(root, "tree"), filepath.Join(root, "elsewhere", "team-a")
	for _, d := range []string{tree, target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(target, filepath.Join(tree, "team-a")); err != nil {
		t.Fatal(err)
	}
	real = filepath.Join(target, "vs.yaml")
	if err := os.WriteFile(real, []byte("kind: VirtualService\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return tree, filepath.Join(tree, "team-a", "vs.yaml"), real
}

// TestStampsFollowSymlinkedDirectories: the loader reads the files of a
// symlinked directory (model's walker follows links), so a load's
// transaction must see them change: a file written in place there while a
// load reads it is a half-written input, and the load must be dropped.
func TestStampsFollowSymlinkedDirectories(t *testing.T) {
	tree, viaLink, real := symlinkedTree(t)
	set := watchSet{files: map[string]bool{}, trees: []string{tree}}
	before := set.stamps()
	if _, ok := before[viaLink]; !ok {
		t.Fatalf("stamps hold no entry for %s, which the loader reads: %v", viaLink, before)
	}
	// Written in place: the directory's own time and size stay as they were.
	if err := os.WriteFile(real, []byte("kind: VirtualService\nspec: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	after := set.stamps()
	if sameStamps(before, after) {
		t.Fatal("a file of a symlinked directory written in place left the stamps unchanged")
	}
	if got := changedFiles(before, after); len(got) != 1 || got[0] != viaLink {
		t.Errorf("changed files = %v, want [%s]", got, viaLink)
	}
}

// TestStampsEndOnSymlinkLoops: a link back to an ancestor is walked once.
func TestStampsEndOnSymlinkLoops(t *testing.T) {
	tree, viaLink, _ := symlinkedTree(t)
	if err := os.Symlink(tree, filepath.Join(filepath.Dir(filepath.Dir(viaLink)), "loop")); err != nil {
		t.Fatal(err)
	}
	set := watchSet{files: map[string]bool{}, trees: []string{tree}}
	if _, ok := set.stamps()[viaLink]; !ok {
		t.Fatalf("stamps hold no entry for %s", viaLink)
	}
}

// TestWatcherFollowsSymlinkedDirectories: a change inside a symlinked
// directory of a tree reloads, as one in a plain sub-directory does; before,
// a certificate rotated in a Secret linked into the secrets directory was
// never read.
func TestWatcherFollowsSymlinkedDirectories(t *testing.T) {
	tree, _, real := symlinkedTree(t)
	reloads := runWatcher(t, watchSet{files: map[string]bool{}, trees: []string{tree}})
	if err := os.WriteFile(real, []byte("kind: VirtualService\nspec: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return reloads.Load() >= 1 })
}
