package server

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// TestFieldHashBytes pins fieldHash to its definition (each field's length,
// 8 bytes big endian, then its bytes): versions and name sums must stay
// the same on every replica and across releases.
func TestFieldHashBytes(t *testing.T) {
	fields := []string{"", "a", "outbound|443||svc.example.com", string(make([]byte, 300))}
	var want []byte
	f := newFieldHash()
	for i, s := range fields {
		want = binary.BigEndian.AppendUint64(want, uint64(len(s)))
		want = append(want, s...)
		if i%2 == 0 {
			f.string(s)
		} else {
			f.bytes([]byte(s))
		}
	}
	if got, w := f.h.Sum(nil), sha256.Sum256(want); string(got) != string(w[:]) {
		t.Errorf("fieldHash = %x, want %x", got, w)
	}
	if got, w := namesSum([]string{"ab", "c"}), namesSum([]string{"a", "bc"}); got == w {
		t.Error(`namesSum("ab","c") == namesSum("a","bc")`)
	}
}
