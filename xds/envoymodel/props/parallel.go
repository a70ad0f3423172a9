package props

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// each runs work(sub, i) for i in [0, n) on every core, each i with a
// checker of its own (fork), and merges those into c in the order of i, so
// that the result is the one a loop gives: the same probes counted, the
// same first example of each violation, the same counts. What the work
// shares is read-only or safe for concurrent use: the Intent, the model of
// Envoy (its memos are sync.Maps and sync.Onces) and each Validation's memo
// (a sync.Map). With 10,000 hosts, `trustgate check` ran about 1.8 million
// probes on one core (docs/performance.md).
//
// On one core it is the loop itself, on c: the result the others must give
// (TestParallelEqualsSequential).
func (c *checker) each(n int, work func(sub *checker, i int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			work(c, i)
		}
		return
	}
	subs := make([]*checker, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				subs[i] = c.fork()
				work(subs[i], i)
			}
		})
	}
	wg.Wait()
	for _, sub := range subs {
		c.merge(sub)
	}
}

// fork is a checker sharing c's inputs, with nothing recorded yet.
func (c *checker) fork() *checker {
	return &checker{in: c.in, m: c.m, clients: c.clients, now: c.now, opts: c.opts, scoped: c.scoped,
		seen: map[string]*Violation{}, verified: map[*Server]bool{}}
}

// merge adds what sub recorded to c, as if c had recorded it after what it
// holds: a violation c has already keeps its example and adds sub's count.
func (c *checker) merge(sub *checker) {
	c.probes += sub.probes
	c.validated += sub.validated
	for s := range sub.verified {
		c.verified[s] = true
	}
	for _, key := range sub.order {
		v := sub.seen[key]
		if prev, ok := c.seen[key]; ok {
			prev.Count += v.Count
			continue
		}
		c.seen[key] = v
		c.order = append(c.order, key)
	}
}
