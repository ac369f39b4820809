package boxoffice_test

import (
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
)

func TestWithDefaults(t *testing.T) {
	type cfg struct {
		Name    string
		Timeout time.Duration
		Limit   int
		Key     []byte
		Now     func() time.Time
	}
	now := func() time.Time { return time.Unix(1, 0) }
	def := cfg{Name: "node", Timeout: time.Second, Limit: 5, Now: now}
	cases := []struct {
		name string
		in   cfg
		want cfg
	}{
		{"zero takes every default", cfg{}, def},
		{"set fields stay", cfg{Name: "a", Timeout: -1, Limit: 1, Key: []byte{}},
			cfg{Name: "a", Timeout: -1, Limit: 1, Key: []byte{}, Now: now}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := boxoffice.WithDefaults(c.in, def)
			if got.Name != c.want.Name || got.Timeout != c.want.Timeout || got.Limit != c.want.Limit ||
				(got.Key == nil) != (c.want.Key == nil) || got.Now == nil || !got.Now().Equal(now()) {
				t.Fatalf("WithDefaults(%+v) = %+v, want %+v", c.in, got, c.want)
			}
		})
	}
}
