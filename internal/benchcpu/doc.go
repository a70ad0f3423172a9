// Package benchcpu reports a benchmark's CPU time per op: user plus system
// time of the whole process (every goroutine and the collector included),
// as "cpu-ms/op". On a machine shared with other work it is a steadier
// figure than the wall time. Only tests import it.
package benchcpu
