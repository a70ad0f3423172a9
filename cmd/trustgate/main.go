package main

import (
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns its exit status: 0 on
// success, 1 on errors, 2 on usage errors (see exitStatus).
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	// Never nil: cobra reads os.Args when the arguments are nil.
	root.SetArgs(append([]string{}, args...))
	return profiled(stderr, func() int {
		cmd, err := root.ExecuteC()
		return exitStatus(cmd, err, stderr)
	})
}
