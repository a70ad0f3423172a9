//go:build !linux

package hugeheap

// Reserve does nothing outside Linux: transparent huge pages and their
// advice are Linux's.
func Reserve(n int) (bool, error) { return false, nil }
