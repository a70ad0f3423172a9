package dump

import (
	"bufio"
	"fmt"
	"runtime"
	"sync"

	"google.golang.org/protobuf/proto"
)

// list is one list of a streamed document: its items, how to render one,
// and what to write around them.
type list struct {
	name   string // for errors
	items  []proto.Message
	render func(proto.Message, *rendering) error
	// open writes what comes before the first item, or the whole list
	// when it is empty; close what comes after the last item.
	open  func(w *bufio.Writer, empty bool)
	close func(w *bufio.Writer)
	// indent is written before each item (after the comma between two).
	indent string
}

// writeLists writes the lists in order, their items rendered in one pass
// over all of them: the workers go on into the next list while the last
// items of one are rendered and written, instead of waiting for them.
func writeLists(w *bufio.Writer, lists []list) error {
	type ref struct{ list, item int }
	var refs []ref
	for l, li := range lists {
		for i := range li.items {
			refs = append(refs, ref{l, i})
		}
	}
	cur := -1 // the list being written
	advance := func(to int) {
		for cur < to {
			if cur >= 0 && len(lists[cur].items) > 0 {
				lists[cur].close(w)
			}
			cur++
			if cur < len(lists) {
				lists[cur].open(w, len(lists[cur].items) == 0)
			}
		}
	}
	err := renderOrdered(len(refs), func(k int, out *rendering) error {
		r := refs[k]
		if err := lists[r.list].render(lists[r.list].items[r.item], out); err != nil {
			return fmt.Errorf("%s: %w", lists[r.list].name, err)
		}
		return nil
	}, func(k int, out *rendering) error {
		r := refs[k]
		advance(r.list)
		if r.item > 0 {
			w.WriteString(",")
		}
		w.WriteString(lists[r.list].indent)
		return out.writeTo(w)
	})
	if err != nil {
		return err
	}
	advance(len(lists))
	return nil
}

// How far rendering may run ahead of writing: aheadPerWorker items per
// worker rendered or being rendered but not written, and aheadBytes
// rendered but not written (a listener at 10,000 hosts is tens of MB). A
// window of 1,024 items let the 200 routes of 200 hosts render beside
// their one listener, but the buffers held ahead were fresh memory, 40%
// more allocated a render (14 MB against 10), and no gain in time showed at
// the loads this was measured at (docs/performance.md).
const (
	aheadPerWorker = 4
	aheadBytes     = 16 << 20
)

// renderOrdered renders items 0..n-1 with render, by up to GOMAXPROCS
// workers, and hands the results to emit in order. It stops at the first
// error. What runs ahead is counted over all of an item's parts.
func renderOrdered(n int, render func(int, *rendering) error, emit func(int, *rendering) error) error {
	if n == 0 {
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), n)
	type result struct {
		out  *rendering
		size int
		err  error
	}
	// Each item gets a buffered channel its worker fills once.
	slots := make([]chan result, n)
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	var (
		mu       sync.Mutex
		room     = sync.NewCond(&mu) // signalled when an item is written or the writer stops
		inFlight int                 // dispatched, not written
		rendered int                 // bytes rendered, not written
		stopped  bool
	)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				out := newRendering()
				err := render(i, out)
				size := out.len()
				mu.Lock()
				rendered += size
				mu.Unlock()
				slots[i] <- result{out: out, size: size, err: err}
			}
		})
	}
	go func() {
		defer close(next)
		for i := range n {
			mu.Lock()
			for !stopped && (inFlight >= aheadPerWorker*workers || rendered > aheadBytes) {
				room.Wait()
			}
			if stopped {
				mu.Unlock()
				return
			}
			inFlight++
			mu.Unlock()
			next <- i
		}
	}()
	var err error
	for i := range n {
		res := <-slots[i]
		if err = res.err; err == nil {
			err = emit(i, res.out)
		}
		mu.Lock()
		inFlight--
		rendered -= res.size
		if err != nil {
			stopped = true
		}
		room.Broadcast()
		mu.Unlock()
		res.out.release()
		if err != nil {
			break
		}
	}
	// After an error the dispatcher stops at its next item; the workers
	// finish theirs into buffered slots nobody reads.
	wg.Wait()
	return err
}
