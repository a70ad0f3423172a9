package props_test

import (
	"flag"
	"os"
	"testing"
)

// minimizeFlag is the testing package's -fuzzminimizetime.
const minimizeFlag = "test.fuzzminimizetime"

// defaultMinimize bounds the minimization of each new-coverage input to a
// number of runs instead of Go's default of 60 seconds.
//
// Why: `go test -fuzz` minimizes every input that finds new coverage
// before it counts it (internal/fuzz, coordinator and workerClient.minimize).
// The coordinator's wait for a timed minimization ends at the same moment
// as the worker's own deadline, and the coordinator usually loses the race:
// it then kills the worker (contextReader returns ctx.Err(), worker.stop),
// drops the runs the worker made from the count, and starts a new worker,
// which makes its PKI again. FuzzPipelineModel finds new coverage often and
// its inputs stay large (a configuration must remain valid to reach the
// model), so minimizing never finishes early: the fuzzer reported ~20 runs
// in two minutes while the workers ran ~300 inputs a second. See
// docs/fuzzing.md for the measurements, and golang/go#48820.
//
// A count ("200x") has no deadline: the worker stops by itself, reports its
// runs, and keeps running. An explicit -fuzzminimizetime wins.
const defaultMinimize = "200x"

func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == minimizeFlag })
	if !given {
		if err := flag.Set(minimizeFlag, defaultMinimize); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
