package model

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// TestSecretIndexFollowsTheSlice: the index gives what a scan of c.Secrets
// gives, after secrets are appended (as the Kubernetes source appends the
// API's) or the slice replaced, and when read from many goroutines at once.
func TestSecretIndexFollowsTheSlice(t *testing.T) {
	secret := func(ns, name string) *Secret {
		s := &Secret{}
		s.Metadata.Namespace, s.Metadata.Name = ns, name
		return s
	}
	c := &Config{secretIdx: newSecretIndex()}
	for i := range 50 {
		c.Secrets = append(c.Secrets, secret([]string{"", "edge", "istio-system"}[i%3], fmt.Sprintf("s%d", i%20)))
	}
	check := func(when string) {
		t.Helper()
		for i := range 25 {
			name := fmt.Sprintf("s%d", i)
			var want []*Secret
			for _, s := range c.Secrets {
				if s.Metadata.Name == name {
					want = append(want, s)
				}
			}
			if got := c.secretsNamed(name); !slices.Equal(got, want) {
				t.Errorf("%s: %d secrets named %s, the scan gives %d", when, len(got), name, len(want))
				return
			}
		}
	}
	check("first use")
	c.Secrets = append(c.Secrets, secret("edge", "s21"), secret("", "s3"))
	check("after an append")
	c.Secrets = append([]*Secret{secret("edge", "s22")}, c.Secrets[5:]...)
	check("another slice")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { check("concurrently") })
	}
	wg.Wait()
}
