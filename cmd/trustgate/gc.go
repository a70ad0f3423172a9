package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"

	"github.com/spf13/cobra"

	"github.com/trustgate/trustgate/internal/hugeheap"
	"github.com/trustgate/trustgate/internal/startgc"
)

// The garbage collector of a command that builds one configuration, prints
// it and exits (translate). Go's default GOGC, 100, starts collecting at a
// 4 MB heap and doubles the goal each time: at 200 hosts that is seven
// collections in 90 ms for a live heap of about 11 MB, their marking
// competing with the work on two cores (15 ms of CPU per run in a
// profile). At 400 the first collection comes at 16 MB and the goal grows
// fivefold: one or two collections in all, for a few more MB of peak heap
// (at 1,000 hosts, a live heap of up to 29 MB, about 50 MB more RSS). A
// large configuration would pay for 400 with much more memory (10,000
// hosts: a peak RSS of 1.15 GB instead of 0.76 GB), so once a collection
// finds more than oneShotLiveHeap live GOGC comes down to largeGCPercent:
// 400 then costs at most four times that. largeGCPercent is 200, not Go's
// 100: at 10,000 hosts 7 collections instead of 9, 0.3-0.4 s less CPU of
// 3.7-4.7 s and 0.2-0.6 s less wall time, for 30-70 MiB more peak RSS
// (447-503 MiB against 415-460; main before the split render's fresh
// buffers, 514-552); at 1,000 hosts no change in time, 10-15 MiB more
// (docs/performance.md, "translate, fourth round"). serve keeps Go's
// default throughout; GOGC in the environment wins, as for any Go program.
//
// Before the first collection GOGC is off and a memory limit of
// oneShotFirstGC stands in for it: at 200 hosts the whole run allocates
// less than that, and the collection 400 still made at a 16 MB heap
// (gctrace: one) goes, for 8 MiB more peak RSS (67 against 59 MiB);
// 9-19 ms less wall time (mean of 20 runs, three rounds, load 2.2). At
// 1,000 hosts two collections become one (13-18 MiB more RSS), at 10,000
// seven become six. The limit goes with the first collection; GOMEMLIMIT
// in the environment keeps it out.
const (
	// oneShotHugeHeap is the heap the commands that build and exit
	// (translate, check) ask huge pages for (internal/hugeheap): translate
	// at 10,000 hosts peaks at about 430 MiB. Reserving it takes 12-20 ms
	// on a machine where a page's first touch costs 13.5 µs: 4-5 ms of the
	// runtime's bookkeeping for the range, the rest the collection that
	// frees it. 64 MiB, enough up to 1,000 hosts, would save 3 ms of that;
	// translate at 200 hosts gains 35 ms all the same, at 1,000 hosts 120-140,
	// check 10% (docs/performance.md, "Huge pages for translate's heap").
	oneShotHugeHeap = 1 << 30

	oneShotGCPercent = 400
	oneShotLiveHeap  = 32 << 20
	largeGCPercent   = 200
	oneShotFirstGC   = 64 << 20
)

// reserveHugeHeap backs the heap of a command that builds and exits with
// huge pages, first thing in its run; a failure only leaves it slower, and
// is said on stderr.
func reserveHugeHeap(cmd *cobra.Command) {
	if _, err := hugeheap.Reserve(oneShotHugeHeap); err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning:", err)
	}
}

// tuneGCForOneShot holds the first collection back until the process's
// memory reaches oneShotFirstGC (a memory limit with GOGC off), then sets
// oneShotGCPercent, unless the user set GOGC or GOMEMLIMIT; it watches the
// live heap after each collection.
func tuneGCForOneShot() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		debug.SetGCPercent(oneShotGCPercent)
		watchLiveHeap(false)
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(oneShotFirstGC)
	watchLiveHeap(true)
}

// watchLiveHeap runs after the next collection (a cleanup of an object
// nothing references): after the first (limited), it lifts the memory
// limit; it sets largeGCPercent if the live heap has grown past
// oneShotLiveHeap, and otherwise oneShotGCPercent and waits for the one
// after.
func watchLiveHeap(limited bool) {
	sentinel := new([16]byte) // not tiny: a tiny allocation may share its block and outlive a collection
	runtime.AddCleanup(sentinel, func(struct{}) {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(sample)
		large := sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > oneShotLiveHeap
		if large {
			debug.SetGCPercent(largeGCPercent)
		} else if limited {
			debug.SetGCPercent(oneShotGCPercent)
		}
		if limited {
			debug.SetMemoryLimit(math.MaxInt64) // Go's default: no limit
		}
		if !large {
			watchLiveHeap(false)
		}
	}, struct{}{})
}

// gcAnnotation marks a command that sets its own GOGC (translate: oneShot).
const (
	gcAnnotation = "trustgate.gc"
	oneShot      = "one-shot"
)

// restoreGC, run before every command, gives Go's default GOGC back now
// that package initialisation is over (startgc), except to a one-shot
// command, which keeps startgc's until it sets its own. main restored it
// first thing before: the packages' init functions leave a 3.8 MB heap, so
// Go's 4 MB first goal started a collection within the next allocations,
// before translate raised GOGC again, in every translate (GODEBUG=gctrace=1:
// "gc 1 ... 4->5->3 MB").
func restoreGC(cmd *cobra.Command, _ []string) {
	if cmd.Annotations[gcAnnotation] != oneShot {
		startgc.Done()
	}
}
