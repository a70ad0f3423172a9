// Package regularfile reads files that must be regular files: the
// configuration and certificate files of the model, and the xDS TLS files
// and policy read on every handshake. A device or pipe named by mistake
// would never end (/dev/zero) or block on open (a FIFO with no writer), which
// would stall every later reload or handshake; Read refuses them, naming
// what they are, and bounds the size.
//
// It sits beside the pipeline and imports only the standard library.
package regularfile
