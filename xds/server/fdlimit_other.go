//go:build !unix

package server

import "log/slog"

// fdBound returns maxConns: only unix systems report the open-file limit here.
func fdBound(maxConns int, _ *slog.Logger) int { return maxConns }
