package cluster

import (
	"testing"
	"time"
)

func TestRetryBackoff(t *testing.T) {
	cases := []struct {
		attempt int
		timeout time.Duration
		want    time.Duration
	}{
		{0, 5 * time.Second, 25 * time.Millisecond},
		{1, 5 * time.Second, 25 * time.Millisecond},
		{2, 5 * time.Second, 100 * time.Millisecond},
		{3, 5 * time.Second, 225 * time.Millisecond},
		{4, 5 * time.Second, 400 * time.Millisecond},
		{5, 5 * time.Second, 500 * time.Millisecond},
		{1000, 5 * time.Second, 500 * time.Millisecond},
		{3, 400 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tc := range cases {
		if got := retryBackoff(tc.attempt, tc.timeout); got != tc.want {
			t.Errorf("retryBackoff(%d, %v) = %v, want %v", tc.attempt, tc.timeout, got, tc.want)
		}
	}
}
