// Package goldentest is the golden-file harness shared by the IR and the
// pipeline tests: it runs testdata/<case>.in.yaml cases against their output
// files, and replaces certificate material made afresh for each run (no key
// is committed) with stable labels. Only tests import it.
package goldentest
