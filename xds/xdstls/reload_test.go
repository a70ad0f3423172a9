package xdstls

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadAllReadsOnlyRegularFiles: the TLS files and the policy are read
// on handshakes; a FIFO or device in their place must be an error, never a
// read that blocks (every handshake would hang) or never ends.
func TestReadAllReadsOnlyRegularFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "tls.crt")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	for name, path := range map[string]string{"a FIFO": fifo, "a device": "/dev/zero"} {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, _, err := readAll([]string{path})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "not a regular file") {
					t.Errorf("readAll(%s) = %v, want a not-a-regular-file error", path, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("readAll(%s) did not return", path)
			}
		})
	}
}
