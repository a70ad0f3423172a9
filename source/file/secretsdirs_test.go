package file

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWatchSetSecretsDirs: every secrets directory is a watched tree, and a
// change in the last one reloads as one in the first does (seed 004 keeps
// the server's certificate and the client CAs in separate directories).
func TestWatchSetSecretsDirs(t *testing.T) {
	root := t.TempDir()
	cfg, servers, clients := filepath.Join(root, "gw.yaml"), filepath.Join(root, "servers"), filepath.Join(root, "clients")
	for _, d := range []string{servers, clients} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	set, err := newWatchSet([]string{cfg}, []string{servers, clients})
	if err != nil {
		t.Fatal(err)
	}
	want := watchSet{files: map[string]bool{cfg: true}, trees: []string{servers, clients}}
	if diff := cmp.Diff(want, set, cmp.AllowUnexported(watchSet{})); diff != "" {
		t.Fatalf("watch set (-want +got):\n%s", diff)
	}
	reloads := runWatcher(t, set)
	for _, dir := range []string{clients, servers} {
		before := reloads.Load()
		if err := os.Mkdir(filepath.Join(dir, "gw-cacert"), 0o755); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return reloads.Load() > before })
	}
}
