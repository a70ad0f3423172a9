package irbuild

// BuildWithWorkers exposes buildWithWorkers to the golden tests: each case
// is built on one fork and on several too (TestBuildGolden).
var BuildWithWorkers = buildWithWorkers
