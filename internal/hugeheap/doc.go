// Package hugeheap backs the heap of a short-lived command with transparent
// huge pages where the system leaves them to the program (the "madvise"
// mode of /sys/kernel/mm/transparent_hugepage/enabled).
//
// Why: a command that builds one configuration and exits (translate) takes
// almost all of its heap fresh from the kernel, and every 4 KiB page of it
// costs a page fault on first touch. Where faults are dear (a virtual
// machine whose host backs guest memory lazily: 13-14 µs a page, measured
// by cmd/xdsload's BenchmarkFirstTouch) those faults were a third of a
// 1,000-host translate; a 2 MiB huge page costs one fault for 512 pages
// (docs/performance.md, "Huge pages for translate's heap").
//
// How: the Go runtime maps its heap as it grows (runtime.(*mheap).grow,
// sysMap) and, since Go 1.21.1, never asks for huge pages itself; a
// mapping made later does not inherit advice given to an earlier one
// (mmap with MAP_FIXED makes a new area). So Reserve grows the heap once by
// a large, untouched allocation, advises that range MADV_HUGEPAGE, and
// frees it (debug.FreeOSMemory: one collection, then the pages go back as
// released). The allocations after it are served from that range first,
// and the kernel backs each 2 MiB-aligned part of it with one huge page on
// first touch.
//
// The cost is the risk the Go runtime stopped taking in Go 1.21.1
// (golang/go#61718): where the kernel's defrag setting is "madvise", a
// fault in advised memory may stall on compaction when memory is
// fragmented. A command that exits can take it; a long-running process
// should not, nor the growth of its resident set when khugepaged collapses
// ranges the scavenger has partly returned (golang/go#64332).
// GODEBUG=disablethp=1, Go's own switch, turns it off.
//
// It is a leaf: the standard library and golang.org/x/sys only.
package hugeheap
