//go:build unix

package server

import (
	"log/slog"
	"syscall"
)

// fdReserve is what the ADS connections leave of the file-descriptor limit:
// the admin endpoint's connections, the configuration files and their
// watches, the listeners.
const fdReserve = 256

// fdBound lowers the cap on ADS connections to what the process's limit on
// open files allows, keeping fdReserve for the rest: 20,000 idle
// connections once took every descriptor, and /healthz stopped answering.
// (Go raises the soft limit to the hard one at start.)
func fdBound(maxConns int, log *slog.Logger) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open-file limit; --max-connections is not checked against it", "error", err)
		return maxConns
	}
	if uint64(maxConns)+fdReserve <= uint64(lim.Cur) {
		return maxConns
	}
	bound := max(int(lim.Cur)-fdReserve, 1)
	if lim.Cur <= 2*fdReserve {
		bound = max(int(lim.Cur)/2, 1)
	}
	log.Warn("--max-connections is over what the open-file limit allows; lowered", "max_connections", maxConns,
		"open_file_limit", lim.Cur, "lowered_to", bound)
	return bound
}
