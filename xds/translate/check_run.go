package translate

import (
	"runtime"
	"sync"
)

// unitsPerTask is how many resources one task checks: enough to make a
// task's cost dwarf handing it out.
const unitsPerTask = 32

// runUnits calls do(0..n-1) on every core, in tasks of unitsPerTask
// consecutive units; each do writes only its own result, so the caller's
// results are in unit order whatever the schedule. Check was a quarter of
// a 10,000-host reload and ran on one core (docs/performance.md).
func runUnits(n int, do func(i int)) {
	tasks := (n + unitsPerTask - 1) / unitsPerTask
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), tasks) {
		wg.Go(func() {
			for t := range next {
				for i := t * unitsPerTask; i < min(n, (t+1)*unitsPerTask); i++ {
					do(i)
				}
			}
		})
	}
	for t := range tasks {
		next <- t
	}
	close(next)
	wg.Wait()
}
