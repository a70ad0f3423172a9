package irbuild

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// TestRetries checks Istio's ConvertPolicy (istio/istio pilot/pkg/
// networking/core/route/retry/retry.go): the default, a policy that turns
// retries off, status codes in retryOn and the previous-hosts switch.
func TestRetries(t *testing.T) {
	no, yes, d100 := false, true, 100*time.Millisecond
	tests := map[string]struct {
		in     *model.HTTPRetry
		hashed bool
		want   *ir.Retry
	}{
		"absent: Istio's default": {
			want: &ir.Retry{Attempts: 2, RetryOn: defaultRetryOn, PreviousHosts: true, HostSelectionMaxAttempts: 5},
		},
		"zero attempts: none": {in: &model.HTTPRetry{Attempts: 0}},
		"attempts only keep the default conditions": {
			in:   &model.HTTPRetry{Attempts: 4},
			want: &ir.Retry{Attempts: 4, RetryOn: defaultRetryOn, PreviousHosts: true, HostSelectionMaxAttempts: 5},
		},
		"status codes in retryOn": {
			in:   &model.HTTPRetry{Attempts: 3, RetryOn: "gateway-error, 503,504", Backoff: "100ms"},
			want: &ir.Retry{Attempts: 3, RetryOn: "gateway-error,retriable-status-codes", RetriableStatusCodes: []uint32{503, 504}, PreviousHosts: true, HostSelectionMaxAttempts: 5, BackoffBase: &d100},
		},
		"codes with retriable-status-codes already named": {
			in:   &model.HTTPRetry{Attempts: 1, RetryOn: "retriable-status-codes,502"},
			want: &ir.Retry{Attempts: 1, RetryOn: "retriable-status-codes", RetriableStatusCodes: []uint32{502}, PreviousHosts: true, HostSelectionMaxAttempts: 5},
		},
		"a number that is no status code stays a condition": {
			in:   &model.HTTPRetry{Attempts: 1, RetryOn: "999"},
			want: &ir.Retry{Attempts: 1, RetryOn: "999", PreviousHosts: true, HostSelectionMaxAttempts: 5},
		},
		"consistent hash: retries stay on the hashed endpoint": {
			hashed: true,
			want:   &ir.Retry{Attempts: 2, RetryOn: defaultRetryOn, HostSelectionMaxAttempts: 5},
		},
		"consistent hash, retryIgnorePreviousHosts true": {
			in: &model.HTTPRetry{Attempts: 2, RetryIgnorePreviousHosts: &yes}, hashed: true,
			want: &ir.Retry{Attempts: 2, RetryOn: defaultRetryOn, PreviousHosts: true, HostSelectionMaxAttempts: 5},
		},
		"retryIgnorePreviousHosts false": {
			in:   &model.HTTPRetry{Attempts: 2, RetryIgnorePreviousHosts: &no},
			want: &ir.Retry{Attempts: 2, RetryOn: defaultRetryOn, HostSelectionMaxAttempts: 5},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := &builder{seenErrs: map[string]bool{}}
			got := b.retries(&model.Object{}, "spec.http[0].retries", tc.in, tc.hashed)
			if err := b.errs.Err(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("retries (-want +got):\n%s", diff)
			}
		})
	}
}
