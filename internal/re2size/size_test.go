package re2size

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	for name, tc := range map[string]struct {
		pattern  string
		limit    int
		wantSize int // 0: no *SizeError
		wantErr  bool
	}{
		"small":              {pattern: `/api/v[0-9]+`, limit: 100},
		"long repetition":    {pattern: `/[a-z0-9]{1,1000}`, limit: Limit, wantSize: 3004, wantErr: true},
		"at the limit":       {pattern: `a{99}`, limit: 103},
		"one over the limit": {pattern: `a{99}`, limit: 102, wantSize: 103, wantErr: true},
		"syntax error":       {pattern: `a(`, limit: Limit, wantErr: true},
	} {
		t.Run(name, func(t *testing.T) {
			err := Check(tc.pattern, tc.limit)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Check(%q) = %v, want error %v", tc.pattern, err, tc.wantErr)
			}
			var se *SizeError
			if got := errors.As(err, &se); got != (tc.wantSize != 0) {
				t.Fatalf("Check(%q) = %v; SizeError %v, want %v", tc.pattern, err, got, tc.wantSize != 0)
			}
			if se != nil && (se.Size != tc.wantSize || se.Limit != tc.limit || !errors.Is(err, ErrTooBig)) {
				t.Errorf("Check(%q) = %+v, want size %d limit %d", tc.pattern, se, tc.wantSize, tc.limit)
			}
		})
	}
}
