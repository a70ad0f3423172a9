//go:build linux

package hugeheap

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// modeFile says which mappings the kernel backs with transparent huge pages:
// "always [madvise] never", the selected one in brackets.
const modeFile = "/sys/kernel/mm/transparent_hugepage/enabled"

// Reserve grows the heap by n bytes of huge-page-advised address space and
// gives them back to the runtime free, so that the next n bytes the program
// allocates come from huge pages. It reports whether it did: not where the
// kernel's mode is "always" (the heap has them already) or "never", where
// the kernel has no such mode, where GODEBUG sets disablethp, or where the
// kernel does not overcommit; and it reserves at most a quarter of the
// machine's memory (reservable). It touches none of the n bytes. Call it
// first thing, before setting a memory limit: the allocation it makes
// would count against one.
func Reserve(n int) (bool, error) {
	mode, err := os.ReadFile(modeFile)
	if err != nil || !madviseMode(mode) || disabledByGODEBUG(os.Getenv("GODEBUG")) {
		return false, nil // no such support, another mode, or turned off
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return false, fmt.Errorf("huge pages for the heap: sysinfo: %w", err)
	}
	overcommit, err := os.ReadFile(overcommitFile)
	if err != nil {
		return false, fmt.Errorf("huge pages for the heap: %w", err)
	}
	n = reservable(n, uint64(si.Totalram)*uint64(si.Unit), strings.TrimSpace(string(overcommit)))
	if n <= 0 {
		return false, nil
	}
	// No collection for the allocation below, only the one that frees it.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// overcommit's bytes are an object of the heap as it is (read into a
	// slice os.ReadFile returns, so never on the stack), to find the arena
	// the heap grew in so far.
	early := uintptr(unsafe.Pointer(unsafe.SliceData(overcommit))) //nolint:gosec // G103: an address for madvise, never turned back into a pointer
	// A large allocation from a fresh mapping is not cleared: the runtime
	// knows its pages are zero (mspan.needzero), so nothing is touched.
	b := make([]byte, n)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b))) //nolint:gosec // G103: as early
	// Where the new memory did not follow on from the arena in use, the
	// runtime mapped that arena's rest too (runtime.(*mheap).grow), free
	// and below b: advised as well, or the first allocations would take it
	// in small pages.
	arena := early &^ (heapArenaBytes - 1)
	err = madvise(arena, heapArenaBytes)
	if errors.Is(err, unix.ENOMEM) {
		// Part of the arena is not mapped: the rest is advised all the
		// same (mm/madvise.c, madvise_walk_vmas), and that is all of it
		// the heap uses.
		err = nil
	}
	err = errors.Join(err, madvise(base, uintptr(n)))
	// b is dead from here: the collection frees it. Returning its pages
	// as released keeps them out of the retained memory a memory limit or
	// the scavenger would act on. Untouched, they cost the scavenger one
	// madvise per 4 MiB chunk.
	debug.FreeOSMemory()
	if err != nil {
		return false, fmt.Errorf("huge pages for the heap: %w", err)
	}
	return true, nil
}

// heapArenaBytes is the size and alignment of the runtime's heap arenas on
// 64-bit Linux (runtime/malloc.go, heapArenaBytes): the address space is
// reserved an arena at a time, so an arena is mapped whole, in parts
// readable and writable and parts not yet.
const heapArenaBytes = 64 << 20

// madvise advises the n bytes at addr MADV_HUGEPAGE. The addresses are the
// heap's, not a Go slice's: the system call takes them as they are.
func madvise(addr, n uintptr) error {
	if _, _, e := unix.Syscall(unix.SYS_MADVISE, addr, n, unix.MADV_HUGEPAGE); e != 0 {
		return fmt.Errorf("madvise(%#x, %d MiB, MADV_HUGEPAGE): %w", addr, n>>20, e)
	}
	return nil
}

// overcommitFile holds the kernel's overcommit mode: 0 heuristic, 1
// always, 2 never (Documentation/mm/overcommit-accounting.rst).
const overcommitFile = "/proc/sys/vm/overcommit_memory"

// reservable is how much of n bytes Reserve may allocate on a machine of
// ram bytes: none where the kernel does not overcommit (mode 2: the
// reservation counts whole against the commit limit, untouched or not),
// and at most a quarter of the memory otherwise, far below what the
// heuristic mode refuses in one request (the memory and swap) so that the
// allocation cannot fail: the runtime ends the process when it does.
func reservable(n int, ram uint64, overcommit string) int {
	if overcommit == "2" || n <= 0 {
		return 0
	}
	return int(min(uint64(n), ram/4))
}

// madviseMode reports whether modeFile's contents select "madvise".
func madviseMode(mode []byte) bool {
	return strings.Contains(string(mode), "[madvise]")
}

// disabledByGODEBUG reports whether GODEBUG sets disablethp to anything
// but 0: the runtime then advises every heap mapping against huge pages
// (runtime.sysMapOS), which this package must not undo. The last setting
// wins, as in the runtime's own parsing.
func disabledByGODEBUG(godebug string) bool {
	on := false
	for _, kv := range strings.Split(godebug, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(kv), "disablethp="); ok {
			on = v != "" && v != "0"
		}
	}
	return on
}
