package translate

import (
	"runtime"
	"sync"
)

// unitsPerTask is how many resources one task checks: enough to make a
// task's cost dwarf handing it out.
const unitsPerTask = 32

// run checks the units — one resource each, in Check's order — on every
// core, each task with its own checker over the shared, read-only name
// sets, and records their findings in unit order, as checking them one
// after the other would (the same findings, the same order, a finding
// repeated across resources recorded once). Check was a quarter of a
// 10,000-host reload and ran on one core (docs/performance.md).
func (c *checker) run(units []func(*checker)) {
	tasks := (len(units) + unitsPerTask - 1) / unitsPerTask
	found := make([][]error, tasks)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), tasks) {
		wg.Go(func() {
			for t := range next {
				tc := &checker{clusters: c.clusters, routes: c.routes, secrets: c.secrets, endpoints: c.endpoints}
				for _, u := range units[t*unitsPerTask : min(len(units), (t+1)*unitsPerTask)] {
					u(tc)
				}
				found[t] = tc.errs
			}
		})
	}
	for t := range tasks {
		next <- t
	}
	close(next)
	wg.Wait()
	for _, errs := range found {
		for _, e := range errs {
			c.add(e)
		}
	}
}
