package xdstls

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxFileSize bounds a certificate, key, CA or policy file.
const maxFileSize = 16 << 20

// readRegular reads a regular file of at most maxFileSize bytes. The files
// are read on handshakes: a FIFO in their place would block every one of
// them, and a device would never end. So the type is checked before
// opening and again on the opened file (opened with O_NONBLOCK, which a
// FIFO without a writer needs not to block).
func readRegular(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(path, st.Mode()); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close() // read-only: a close error loses nothing
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkRegular(path, st.Mode()); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return b, nil
}

func checkRegular(path string, m fs.FileMode) error {
	if m.IsRegular() {
		return nil
	}
	return fmt.Errorf("%s is not a regular file (%s); trustgate reads only regular files", path, m.Type())
}
