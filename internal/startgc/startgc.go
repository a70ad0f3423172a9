package startgc

import (
	"os"
	"runtime/debug"
)

// initGCPercent is GOGC while packages initialise: a 16 MB first goal,
// above what they allocate.
const initGCPercent = 400

// defaultGCPercent is Go's GOGC when the environment sets none.
const defaultGCPercent = 100

var userSet bool

func init() {
	_, userSet = os.LookupEnv("GOGC")
	if !userSet {
		debug.SetGCPercent(initGCPercent)
	}
}

// Done restores Go's default GOGC unless the environment set one. Call it
// once package initialisation is over, before the work.
func Done() {
	if !userSet {
		debug.SetGCPercent(defaultGCPercent)
	}
}
