package anymemo

import (
	"fmt"
	"testing"
)

func TestMemo(t *testing.T) {
	m := New[int](0)
	h := m.Hash("u", []byte("a"))
	if _, ok := m.Get(h, "u", []byte("a")); ok {
		t.Fatal("an empty memo has a value")
	}
	m.Update(h, "u", []byte("a"), func(v *int, found bool) {
		if found {
			t.Error("found before it was added")
		}
		*v = 7
	})
	if v, ok := m.Get(h, "u", []byte("a")); !ok || v != 7 {
		t.Errorf("Get = %d, %v; want 7, true", v, ok)
	}
	// The same bytes under another type URL, or a forged hash, are another key.
	if _, ok := m.Get(m.Hash("v", []byte("a")), "v", []byte("a")); ok {
		t.Error("another type URL shares the value")
	}
	if _, ok := m.Get(h, "u", []byte("b")); ok {
		t.Error("other bytes under the same hash share the value")
	}
}

func TestMemoBound(t *testing.T) {
	m := New[struct{}](4)
	for i := range 5 {
		v := []byte(fmt.Sprint(i))
		m.Update(m.Hash("u", v), "u", v, func(*struct{}, bool) {})
	}
	if n := m.Len(); n != 1 {
		t.Errorf("after 5 entries in a memo of 4, Len = %d, want 1", n)
	}
}
