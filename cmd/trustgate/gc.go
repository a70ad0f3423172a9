package main

import (
	"os"
	"runtime/debug"
)

// oneShotGCPercent is the garbage collector's GOGC for a command that
// builds one configuration, prints it and exits (translate). Go's default,
// 100, starts collecting at a 4 MB heap and doubles the goal each time: at
// 200 hosts that is seven collections in 90 ms for a live heap of about
// 11 MB, their marking competing with the work on two cores (15 ms of CPU
// per run in a profile). At 400 the first collection comes at 16 MB and
// the goal grows fivefold, one or two collections in all; the price is a
// larger peak heap (docs/performance.md gives both at 200 and 10,000
// hosts). A process that lives on (serve) keeps Go's default.
const oneShotGCPercent = 400

// tuneGCForOneShot sets oneShotGCPercent unless the user set GOGC, which
// wins as it does for any Go program.
func tuneGCForOneShot() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(oneShotGCPercent)
	}
}
