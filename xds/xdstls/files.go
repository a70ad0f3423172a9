package xdstls

import "github.com/trustgate/trustgate/internal/regularfile"

// maxFileSize bounds a certificate, key, CA or policy file.
const maxFileSize = 16 << 20

// readRegular reads a regular file of at most maxFileSize bytes. The files
// are read on handshakes: a FIFO in their place would block every one of
// them, and a device would never end (see regularfile.Read).
func readRegular(path string) ([]byte, error) { return regularfile.Read(path, maxFileSize) }
