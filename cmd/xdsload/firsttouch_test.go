package main

import (
	"syscall"
	"testing"
)

// BenchmarkFirstTouch is what a first touch of a 4 KiB page costs on the
// machine: the kernel's page fault, and on a virtual machine whose host backs
// memory only when the guest touches it, the host's (docs/performance.md,
// "Sitting F"). Figures are comparable only between machines where this is
// alike: it was 13.3 µs on the machine of sitting F, where a process that
// touches 25 MB of fresh memory spends a third of a second on it.
//
//	go test ./cmd/xdsload -run '^$' -bench FirstTouch -benchtime 20x
func BenchmarkFirstTouch(b *testing.B) {
	const size = 64 << 20
	page := syscall.Getpagesize()
	for b.Loop() {
		m, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < size; i += page {
			m[i] = 1
		}
		if err := syscall.Munmap(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size/page)/1000, "µs/page")
}
