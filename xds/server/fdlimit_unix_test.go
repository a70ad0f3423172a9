//go:build unix

package server

import (
	"bytes"
	"log/slog"
	"strings"
	"syscall"
	"testing"
)

// TestFDBound lowers the process's open-file limit for a moment: the cap on
// ADS connections must leave fdReserve descriptors for the rest, and say so.
func TestFDBound(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
			t.Errorf("restoring the open-file limit: %v", err)
		}
	})
	tests := map[string]struct {
		soft      uint64
		max, want int
		warned    bool
	}{
		"room to spare":     {soft: 1000, max: 500, want: 500},
		"exactly enough":    {soft: 1000, max: 1000 - fdReserve, want: 1000 - fdReserve},
		"lowered":           {soft: 1000, max: 4096, want: 1000 - fdReserve, warned: true},
		"tiny limit halved": {soft: 300, max: 4096, want: 150, warned: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lim := syscall.Rlimit{Cur: min(tc.soft, orig.Max), Max: orig.Max}
			if lim.Cur != tc.soft {
				t.Fatalf("the hard limit %d is below %d", orig.Max, tc.soft)
			}
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			got := fdBound(tc.max, slog.New(slog.NewTextHandler(&log, nil)))
			if got != tc.want {
				t.Errorf("fdBound(%d) with a limit of %d = %d, want %d", tc.max, tc.soft, got, tc.want)
			}
			if warned := strings.Contains(log.String(), "lowered"); warned != tc.warned {
				t.Errorf("warned = %v, want %v: %q", warned, tc.warned, log.String())
			}
		})
	}
}
