package kubernetes

import (
	"strings"
	"testing"
	"time"
)

// TestStatusOptionsRefuseOverlappingLeaders: timings under which a leader
// could still write after another replica may take its Lease are refused,
// the Lease's whole seconds included.
func TestStatusOptionsRefuseOverlappingLeaders(t *testing.T) {
	base := StatusOptions{Identity: "a", LeaseNamespace: "ns", LeaseName: "l"}
	with := func(lease, renew, retry time.Duration) StatusOptions {
		o := base
		o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = lease, renew, retry
		return o
	}
	for name, tc := range map[string]struct {
		opts StatusOptions
		want string // "" for accepted
	}{
		"defaults":                       {base, ""},
		"tests' timings":                 {with(2*time.Second, time.Second, 100*time.Millisecond), ""},
		"renew deadline as long":         {with(10*time.Second, 10*time.Second, time.Second), "longer than RenewDeadline"},
		"renew deadline longer":          {with(5*time.Second, 8*time.Second, time.Second), "longer than RenewDeadline"},
		"lease shorter in whole seconds": {with(1500*time.Millisecond, 1200*time.Millisecond, 100*time.Millisecond), "longer than RenewDeadline"},
		"lease under a second":           {with(500*time.Millisecond, 100*time.Millisecond, 10*time.Millisecond), "longer than RenewDeadline"},
		"retry as long as the deadline":  {with(15*time.Second, 2*time.Second, 2*time.Second), "1.2 times RetryPeriod"},
		"negative retry":                 {with(15*time.Second, 2*time.Second, -time.Second), "must be positive"},
		"no identity":                    {StatusOptions{LeaseNamespace: "ns", LeaseName: "l"}, "required"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.opts.withDefaults()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
