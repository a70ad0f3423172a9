package translate

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/trustgate/trustgate/xds/ir"
	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

// TestContentKey: values differing in any field, nil against empty
// included, have different keys; equal values, maps in any order, the same.
func TestContentKey(t *testing.T) {
	d := time.Second
	base := func() *ir.Cluster {
		return &ir.Cluster{Name: "c", Kind: ir.ClusterKind("STRICT_DNS"), Endpoints: []ir.Endpoint{{Address: "a", Port: 1}}}
	}
	tests := map[string]struct {
		a, b any
		same bool
	}{
		"equal":                {base(), base(), true},
		"one field":            {base(), func() *ir.Cluster { c := base(); c.Endpoints[0].Port = 2; return c }(), false},
		"nil and empty slice":  {&ir.Listener{}, &ir.Listener{Chains: []*ir.Chain{}}, false},
		"nil and zero pointer": {&ir.TCPChain{}, &ir.TCPChain{IdleTimeout: new(time.Duration)}, false},
		"pointer to value":     {&ir.TCPChain{IdleTimeout: &d}, &ir.TCPChain{IdleTimeout: &d}, true},
		"split strings":        {&ir.Header{Name: "ab", Value: "c"}, &ir.Header{Name: "a", Value: "bc"}, false},
		"types":                {&ir.Endpoint{}, &ir.SANMatch{}, false},
		"map order":            {&ir.AccessLog{JSON: map[string]string{"a": "1", "b": "2", "c": "3"}}, &ir.AccessLog{JSON: map[string]string{"c": "3", "b": "2", "a": "1"}}, true},
		"map value":            {&ir.AccessLog{JSON: map[string]string{"a": "1"}}, &ir.AccessLog{JSON: map[string]string{"a": "2"}}, false},
		"bytes":                {&ir.Secret{Cert: &ir.CertKey{CertPEM: []byte("x")}}, &ir.Secret{Cert: &ir.CertKey{CertPEM: []byte("y")}}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ka, err := contentKey(tc.a)
			if err != nil {
				t.Fatal(err)
			}
			kb, err := contentKey(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if (ka == kb) != tc.same {
				t.Errorf("same key = %v, want %v", ka == kb, tc.same)
			}
		})
	}
}

// TestContentKeyCoversIR: every type reachable from ir.Proxy is of a kind
// contentKey reads, so no IR field can be left out of a key (a field of a
// new kind fails here, not as a stale resource).
func TestContentKeyCoversIR(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, path string) {
		if seen[ty] {
			return
		}
		seen[ty] = true
		switch ty.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(ty.Elem(), path+"[]")
		case reflect.Map:
			walk(ty.Key(), path+"{key}")
			walk(ty.Elem(), path+"{}")
		case reflect.Struct:
			for i := range ty.NumField() {
				walk(ty.Field(i).Type, path+"."+ty.Field(i).Name)
			}
		case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Interface, reflect.Complex64, reflect.Complex128:
			t.Errorf("%s: a %s, which contentKey does not read", path, ty.Kind())
		}
	}
	walk(reflect.TypeOf(ir.Proxy{}), "Proxy")
	if _, err := contentKey(&struct{ F func() }{}); err == nil {
		t.Error("contentKey keyed a function")
	}
}

// TestCacheGenerations: a load keeps what it used (Commit drops the rest),
// a failed load keeps the last good one's entries too (Abort), and cached
// translations equal uncached ones.
func TestCacheGenerations(t *testing.T) {
	secret := func(name string) *ir.Secret {
		return &ir.Secret{Name: name, Validation: &ir.Validation{CAPEM: []byte("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")}}
	}
	proxy := func(names ...string) *ir.Proxy {
		p := &ir.Proxy{}
		for _, n := range names {
			p.Secrets = append(p.Secrets, secret(n))
		}
		return p
	}
	c := NewCache()
	load := func(p *ir.Proxy) {
		t.Helper()
		got, err := c.Translate(p)
		want, werr := Translate(p)
		if d := cmp.Diff(errString(werr), errString(err)); d != "" {
			t.Fatalf("errors (-uncached +cached):\n%s", d)
		}
		if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
			t.Fatalf("resources (-uncached +cached):\n%s", d)
		}
	}
	load(proxy("a", "b"))
	c.Commit()
	load(proxy("b", "c"))
	c.Abort() // a failed load: a, b and c stay
	if got := c.Stats().Entries; got != 3 {
		t.Errorf("after Abort: %d entries, want 3", got)
	}
	load(proxy("c"))
	c.Commit() // only c was used
	if got := c.Stats().Entries; got != 1 {
		t.Errorf("after Commit: %d entries, want 1", got)
	}
	before := c.Stats()
	load(proxy("c"))
	if st := c.Stats(); st.Hits != before.Hits+1 || st.Misses != before.Misses {
		t.Errorf("an unchanged secret was not taken from the cache: %+v then %+v", before, st)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestCacheConcurrentUse: proxy groups translated at once through one
// cache, while loads end, give what translating each alone gives (run with
// -race to see the sharing is safe).
func TestCacheConcurrentUse(t *testing.T) {
	want, err := Translate(translatetest.RichProxy())
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache()
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 4 {
		wg.Go(func() {
			for i := range 8 {
				p := translatetest.RichProxy()
				if (g+i)%2 == 1 {
					p.Listeners[1].Chains = p.Listeners[1].Chains[:1] // another group: shares chains and resources
				}
				got, err := c.Translate(p)
				if err != nil {
					errs <- err.Error()
					return
				}
				if (g+i)%2 == 0 {
					if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
						errs <- d
						return
					}
				}
				switch i % 3 {
				case 0:
					c.Commit()
				case 1:
					c.Abort()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if st := c.Stats(); st.Hits == 0 {
		t.Errorf("nothing was shared: %+v", st)
	}
}

// TestTranslateFirstError: builds run on every core, and the error is still
// the first one building in order meets, with or without a cache.
func TestTranslateFirstError(t *testing.T) {
	both := func(name string) *ir.Chain {
		return &ir.Chain{Name: name, HTTP: &ir.HTTPChain{RouteConfig: "r"}, TCP: &ir.TCPChain{}}
	}
	p := translatetest.RichProxy()
	p.Listeners[1].Chains = append(p.Listeners[1].Chains, both("bad-1"), both("bad-2"))
	p.Listeners[2].Chains = append(p.Listeners[2].Chains, both("bad-3"))
	p.Secrets = append(p.Secrets, &ir.Secret{Name: "empty"})
	want := fmt.Sprintf("listener %q: chain %q: both HTTP and TCP are set", p.Listeners[1].Name, "bad-1")
	for name, tr := range map[string]func(*ir.Proxy) (*Resources, error){"uncached": Translate, "cached": NewCache().Translate} {
		for range 3 {
			if _, err := tr(p); err == nil || err.Error() != want {
				t.Errorf("%s: error = %v, want %s", name, err, want)
			}
		}
	}
}

// TestCachedFindingsFollowTheSet: a resource taken from the cache is still
// checked against the resources of this call: a route to a cluster that is
// gone is reported, and found again once the cluster is back.
func TestCachedFindingsFollowTheSet(t *testing.T) {
	without := func() *ir.Proxy {
		p := translatetest.RichProxy()
		p.Clusters = slices.DeleteFunc(p.Clusters, func(c *ir.Cluster) bool { return c.Name == translatetest.DBReplica })
		return p
	}
	c := NewCache()
	for i, p := range []*ir.Proxy{translatetest.RichProxy(), without(), translatetest.RichProxy(), without()} {
		_, werr := Translate(p)
		_, cerr := c.Translate(p)
		if d := cmp.Diff(errString(werr), errString(cerr)); d != "" {
			t.Fatalf("load %d: errors (-uncached +cached):\n%s", i, d)
		}
		if (i%2 == 1) != errors.Is(cerr, ErrMissingCluster) {
			t.Fatalf("load %d: error %v, want a missing cluster: %v", i, cerr, i%2 == 1)
		}
		c.Commit()
	}
	if c.Stats().Hits == 0 {
		t.Error("nothing came from the cache")
	}
}
