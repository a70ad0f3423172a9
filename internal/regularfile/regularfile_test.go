package regularfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(file, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	tests := map[string]struct {
		path  string
		limit int64
		want  string // the content, or an error containing it
		isErr bool
	}{
		"a regular file":         {path: file, limit: 5, want: "12345"},
		"over the limit":         {path: file, limit: 4, want: "is larger than 4 bytes", isErr: true},
		"a directory":            {path: dir, limit: 5, want: "is a directory, not a regular file", isErr: true},
		"a FIFO, without a hang": {path: fifo, limit: 5, want: "is a named pipe (FIFO), not a regular file", isErr: true},
		"a device":               {path: "/dev/zero", limit: 5, want: "is a device, not a regular file", isErr: true},
		"missing":                {path: filepath.Join(dir, "gone"), limit: 5, want: "no such file", isErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			type result struct {
				b   []byte
				err error
			}
			done := make(chan result, 1)
			go func() {
				b, err := Read(tc.path, tc.limit)
				done <- result{b, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("Read(%s) did not return", tc.path)
			}
			switch {
			case tc.isErr && (r.err == nil || !strings.Contains(r.err.Error(), tc.want) || !strings.Contains(r.err.Error(), tc.path)):
				t.Errorf("Read = %q, %v; want an error naming %s and saying %q", r.b, r.err, tc.path, tc.want)
			case !tc.isErr && (r.err != nil || string(r.b) != tc.want):
				t.Errorf("Read = %q, %v; want %q", r.b, r.err, tc.want)
			}
		})
	}
}

// TestReadAllHint: the size hint only sizes the buffer; the content read is
// all of it whatever the hint, as io.ReadAll would give.
func TestReadAllHint(t *testing.T) {
	content := strings.Repeat("0123456789", 100)
	readers := map[string]func() io.Reader{
		"plain":           func() io.Reader { return strings.NewReader(content) },
		"one byte a read": func() io.Reader { return iotest.OneByteReader(strings.NewReader(content)) },
		"data with EOF":   func() io.Reader { return iotest.DataErrReader(strings.NewReader(content)) },
		"half at a time":  func() io.Reader { return iotest.HalfReader(strings.NewReader(content)) },
	}
	for name, reader := range readers {
		for _, hint := range []int64{-1, 0, 1, 999, 1000, 1001, 5000} {
			b, err := readAll(reader(), hint)
			if err != nil || string(b) != content {
				t.Errorf("%s, hint %d: got %d bytes, %v; want all %d", name, hint, len(b), err, len(content))
			}
		}
	}
	boom := errors.New("boom")
	if _, err := readAll(iotest.ErrReader(boom), 10); !errors.Is(err, boom) {
		t.Errorf("a read error: got %v, want %v", err, boom)
	}
}
