//go:build linux

package hugeheap

import (
	"bufio"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestReserveAdvisesTheNextAllocations: after Reserve, a new allocation
// lies in a mapping the kernel may back with huge pages (VmFlags "hg" in
// /proc/self/smaps), the reserved bytes were never touched (the resident
// set barely moved) and they are back with the runtime as released memory.
func TestReserveAdvisesTheNextAllocations(t *testing.T) {
	if mode, err := os.ReadFile(modeFile); err != nil || !madviseMode(mode) {
		t.Skipf("transparent huge pages are not in madvise mode here (%s: %q, %v): Reserve does nothing by design", modeFile, strings.TrimSpace(string(mode)), err)
	}
	t.Setenv("GODEBUG", "")
	const n = 256 << 20
	rss := resident(t)
	ok, err := Reserve(n)
	if err != nil || !ok {
		t.Fatalf("Reserve(%d) = %v, %v; want true, nil", n, ok, err)
	}
	if grew := resident(t) - rss; grew > 32<<20 {
		t.Errorf("the resident set grew by %d MiB: Reserve touched the memory it reserved", grew>>20)
	}
	if got := released(); got < n {
		t.Errorf("the heap holds %d MiB released, want at least the %d MiB reserved", got>>20, n>>20)
	}
	x := make([]byte, 8<<20)
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(x))) //nolint:gosec // G103: the address is only looked up in /proc/self/smaps
	flags := vmFlags(t, addr)
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("an allocation after Reserve (%#x) is in a mapping with VmFlags %q, want hg (MADV_HUGEPAGE)", addr, flags)
	}
}

func TestReserveRespectsDisablethp(t *testing.T) {
	t.Setenv("GODEBUG", "disablethp=1")
	if ok, err := Reserve(64 << 20); ok || err != nil {
		t.Errorf("Reserve with GODEBUG=disablethp=1 = %v, %v; want false, nil", ok, err)
	}
}

func TestDisabledByGODEBUG(t *testing.T) {
	for godebug, want := range map[string]bool{
		"":                            false,
		"disablethp=1":                true,
		"disablethp=0":                false,
		"madvdontneed=1,disablethp=1": true,
		"disablethp=1,disablethp=0":   false,
		" disablethp=1 ":              true,
		"nodisablethp=1":              false,
	} {
		if got := disabledByGODEBUG(godebug); got != want {
			t.Errorf("disabledByGODEBUG(%q) = %v, want %v", godebug, got, want)
		}
	}
}

func TestReservable(t *testing.T) {
	const gib = 1 << 30
	for _, c := range []struct {
		n          int
		ram        uint64
		overcommit string
		want       int
	}{
		{n: gib, ram: 24 * gib, overcommit: "0", want: gib},
		{n: gib, ram: 24 * gib, overcommit: "1", want: gib},
		{n: 8 * gib, ram: 24 * gib, overcommit: "0", want: 6 * gib},
		{n: gib, ram: 2 * gib, overcommit: "0", want: gib / 2},
		{n: gib, ram: 24 * gib, overcommit: "2", want: 0},
		{n: 0, ram: 24 * gib, overcommit: "0", want: 0},
		{n: -1, ram: 24 * gib, overcommit: "0", want: 0},
	} {
		if got := reservable(c.n, c.ram, c.overcommit); got != c.want {
			t.Errorf("reservable(%d, %d, %q) = %d, want %d", c.n, c.ram, c.overcommit, got, c.want)
		}
	}
}

func TestMadviseMode(t *testing.T) {
	for mode, want := range map[string]bool{
		"always [madvise] never\n": true,
		"[always] madvise never\n": false,
		"always madvise [never]\n": false,
		"":                         false,
	} {
		if got := madviseMode([]byte(mode)); got != want {
			t.Errorf("madviseMode(%q) = %v, want %v", mode, got, want)
		}
	}
}

// resident is the process's resident set in bytes (/proc/self/statm).
func resident(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatal(err)
	}
	return pages * os.Getpagesize()
}

// released is the heap memory the runtime holds released to the kernel.
func released() int {
	s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// vmFlags returns the VmFlags line of the mapping holding addr.
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err == nil && strings.Contains(line, " ") {
			in = lo <= addr && addr < hi
			continue
		}
		if v, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no mapping in /proc/self/smaps holds %#x", addr)
	return ""
}
