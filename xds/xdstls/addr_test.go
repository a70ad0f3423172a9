package xdstls

import (
	"errors"
	"testing"
)

func TestCheckPlaintextAddr(t *testing.T) {
	tests := map[string]struct {
		addr    string
		wantErr error // nil: allowed
	}{
		"127.0.0.1":        {addr: "127.0.0.1:18000"},
		"elsewhere in 127": {addr: "127.1.2.3:18000"},
		"IPv6 loopback":    {addr: "[::1]:18000"},
		"localhost":        {addr: "localhost:18000"},
		"LOCALHOST":        {addr: "LOCALHOST:18000"},
		"port zero":        {addr: "127.0.0.1:0"},
		"every interface":  {addr: ":18000", wantErr: ErrPlaintext},
		"0.0.0.0":          {addr: "0.0.0.0:18000", wantErr: ErrPlaintext},
		"::":               {addr: "[::]:18000", wantErr: ErrPlaintext},
		"a private IP":     {addr: "10.0.0.1:18000", wantErr: ErrPlaintext},
		"a host name":      {addr: "trustgate.internal:18000", wantErr: ErrPlaintext},
		// A name that merely starts like localhost resolves anywhere.
		"localhost.evil": {addr: "localhost.example.com:18000", wantErr: ErrPlaintext},
		"IPv4-mapped":    {addr: "[::ffff:127.0.0.1]:18000"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckPlaintextAddr(tc.addr)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("CheckPlaintextAddr(%q) = %v, want %v", tc.addr, err, tc.wantErr)
			}
		})
	}
	if err := CheckPlaintextAddr("no-port"); err == nil || errors.Is(err, ErrPlaintext) {
		t.Errorf("an address without a port: %v, want a parse error", err)
	}
}
