//go:build unix

package file

import (
	"io/fs"
	"syscall"
)

// fileID is the inode of a file: a file renamed over another has a new one
// even when its size and time are equal.
func fileID(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino) // uint32 on some platforms
	}
	return 0
}
