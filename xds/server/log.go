package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/envoyproxy/go-control-plane/pkg/log"
)

// cacheLogger sends go-control-plane's printf-style logs to slog, one level
// down: what it calls Info (every watch opened) is noise for an operator,
// while its Warn ("ADS mode: not responding") deserves attention.
func cacheLogger(l *slog.Logger) log.Logger {
	l = l.With("component", "go-control-plane")
	at := func(level slog.Level) func(string, ...any) {
		return func(format string, args ...any) {
			if l.Enabled(context.Background(), level) {
				l.Log(context.Background(), level, fmt.Sprintf(format, args...))
			}
		}
	}
	return log.LoggerFuncs{
		DebugFunc: at(slog.LevelDebug - 4),
		InfoFunc:  at(slog.LevelDebug),
		WarnFunc:  at(slog.LevelWarn),
		ErrorFunc: at(slog.LevelError),
	}
}
