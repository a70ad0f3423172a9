package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

type reasoned string

func (r reasoned) Error() string      { return "denied" }
func (r reasoned) DenyReason() string { return string(r) }

func TestDenyReason(t *testing.T) {
	tests := map[string]struct {
		err  error
		want string
	}{
		"a reason":              {err: reasoned("node_id"), want: "node_id"},
		"wrapped":               {err: fmt.Errorf("stream 7: %w", reasoned("labels")), want: "labels"},
		"no reason":             {err: errors.New("nope"), want: reasonUnauthorized},
		"not a label":           {err: reasoned("Node ID!"), want: reasonOther},
		"too long for a label":  {err: reasoned(strings.Repeat("a", 33)), want: reasonOther},
		"empty":                 {err: reasoned(""), want: reasonOther},
		"a client-chosen value": {err: reasoned("spiffe://x"), want: reasonOther},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := denyReason(tc.err); got != tc.want {
				t.Errorf("denyReason = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := map[string]struct {
		in      string
		wantLen int
	}{
		"short":             {in: "gw-1", wantLen: 4},
		"at the limit":      {in: strings.Repeat("a", maxLogged), wantLen: maxLogged},
		"long":              {in: strings.Repeat("a", 10*maxLogged), wantLen: maxLogged + len("...(clipped)")},
		"cut inside a rune": {in: strings.Repeat("a", maxLogged-1) + "é" + "tail", wantLen: maxLogged - 1 + len("...(clipped)")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := clip(tc.in)
			if len(got) != tc.wantLen || !utf8.ValidString(got) {
				t.Errorf("clip gave %d bytes (valid UTF-8: %v), want %d", len(got), utf8.ValidString(got), tc.wantLen)
			}
		})
	}
}
