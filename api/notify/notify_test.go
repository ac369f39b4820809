package notify_test

import (
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/boxoffice/boxoffice/api/notify"
)

// Sign agrees with the Standard Webhooks reference library, byte for byte.
func TestSignMatchesReference(t *testing.T) {
	cases := []struct {
		secret, id string
		at         time.Time
		body       string
	}{
		{notify.NewSecret(), "msg_1", time.Unix(1700000000, 0), `{"type":"booking.confirmed"}`},
		{notify.NewSecret(), "msg_42", time.Unix(1, 0), ``},
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), `{"test": 2432232314}`},
	}
	for _, c := range cases {
		ref, err := standardwebhooks.NewWebhook(c.secret)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Sign(c.id, c.at, []byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := notify.Sign(c.secret, c.id, c.at, []byte(c.body))
		if err != nil || got != want {
			t.Errorf("Sign(%s, %s) = %q, %v; reference %q", c.id, c.at, got, err, want)
		}
	}
	if _, err := notify.Sign("whsec_not base64!", "msg_1", time.Unix(1, 0), nil); err == nil {
		t.Error("a secret that is not base64 signed")
	}
}

func TestBackoff(t *testing.T) {
	cases := []struct {
		n    int
		want time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {6, 32 * time.Second}, {7, time.Minute}, {50, time.Minute}, {0, time.Second}}
	for _, c := range cases {
		if got := notify.Backoff(c.n, time.Second, time.Minute); got != c.want {
			t.Errorf("Backoff(%d) = %s, want %s", c.n, got, c.want)
		}
	}
}

func TestParseSMTPURL(t *testing.T) {
	cases := []struct {
		url string
		ok  bool
	}{
		{"smtp://localhost:1025", true},
		{"smtp://user:pa%20ss@mail.example.com:587?from=tickets@example.com", true},
		{"smtps://mail.example.com", true},
		{"smtp://mail.example.com", true},
		{"http://mail.example.com", false},
		{"smtp://:25", false},
		{"smtp://host:0", false},
		{"smtp://host:99999", false},
		{"smtp://host:x", false},
		{"mail.example.com:25", false},
	}
	for _, c := range cases {
		if err := notify.ParseSMTPURL(c.url); (err == nil) != c.ok {
			t.Errorf("ParseSMTPURL(%q) = %v, want ok=%v", c.url, err, c.ok)
		}
	}
}
