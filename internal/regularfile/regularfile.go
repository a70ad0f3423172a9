package regularfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Read reads a regular file of at most limit bytes. The type is checked
// before opening, and again on the opened file: a file swapped for a link
// to a FIFO between the two is opened without blocking (O_NONBLOCK) and
// refused.
func Read(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := Check(path, st.Mode()); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	b, err := read(f, path, limit)
	if err := errors.Join(err, f.Close()); err != nil {
		return nil, err
	}
	return b, nil
}

// read reads the opened file f once it is known to be regular.
func read(f *os.File, path string, limit int64) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := Check(path, st.Mode()); err != nil {
		return nil, err
	}
	b, err := readAll(io.LimitReader(f, limit+1), min(st.Size(), limit))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// Check refuses anything but a regular file, naming what it is.
func Check(path string, m fs.FileMode) error {
	var what string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		what = "a device"
	default:
		what = "not a regular file (" + m.Type().String() + ")"
		return fmt.Errorf("%s is %s; trustgate reads only regular files", path, what)
	}
	return fmt.Errorf("%s is %s, not a regular file; trustgate reads only regular files", path, what)
}

// readAll is io.ReadAll into a buffer sized for the file's stated size
// (as os.ReadFile does): io.ReadAll starts at 512 bytes and grows, which
// for a configuration of 10,000 hosts allocated about three times the file
// on every reload. The size is only a hint: a file that grows meanwhile is
// read whole all the same, up to r's limit.
func readAll(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, max(size, 0)+1) // +1: the read that sees EOF needs no growing
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append pick the larger capacity
		}
	}
}
