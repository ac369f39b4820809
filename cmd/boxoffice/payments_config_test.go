package main

import (
	"io"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice/api/devpay"
	"github.com/boxoffice/boxoffice/api/stripepay"
)

// TestConfigPayments: prod refuses to start without a provider that can
// charge (no BOXOFFICE_PAYMENTS, or dev's test tokens), Stripe needs its
// keys, and every refusal names the variable to set (issue 17).
func TestConfigPayments(t *testing.T) {
	prod := map[string]string{
		"BOXOFFICE_DATABASE_URL": "postgres://boxoffice@127.0.0.1:5432/boxoffice",
		"BOXOFFICE_MODE":         "prod",
		"BOXOFFICE_JWT_SECRET":   "a-jwt-secret-of-at-least-thirty-two-bytes",
	}
	stripe := map[string]string{"BOXOFFICE_PAYMENTS": "stripe", "BOXOFFICE_STRIPE_SECRET_KEY": "sk_test_1",
		"BOXOFFICE_STRIPE_WEBHOOK_SECRET": "whsec_1"}
	with := func(maps ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range maps {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		want     string // the error names this; "" = accepted
		payments string
	}{
		{"prod without a provider", prod, nil, "BOXOFFICE_PAYMENTS", ""},
		{"prod with dev payments", with(prod, map[string]string{"BOXOFFICE_PAYMENTS": "dev"}), nil, "BOXOFFICE_PAYMENTS=dev", ""},
		{"prod with dev payments by flag", with(prod, stripe), []string{"-payments", "dev"}, "BOXOFFICE_PAYMENTS=dev", ""},
		{"prod with stripe", with(prod, stripe), nil, "", "stripe"},
		{"stripe without its key", with(prod, stripe, map[string]string{"BOXOFFICE_STRIPE_SECRET_KEY": ""}), nil, "BOXOFFICE_STRIPE_SECRET_KEY", ""},
		{"prod stripe without a webhook secret", with(prod, stripe, map[string]string{"BOXOFFICE_STRIPE_WEBHOOK_SECRET": ""}), nil, "BOXOFFICE_STRIPE_WEBHOOK_SECRET", ""},
		{"unknown provider", with(prod, map[string]string{"BOXOFFICE_PAYMENTS": "paypal"}), nil, "BOXOFFICE_PAYMENTS", ""},
		{"bad stripe URL", with(prod, stripe, map[string]string{"BOXOFFICE_STRIPE_API_URL": "localhost:12111"}), nil, "BOXOFFICE_STRIPE_API_URL", ""},
		{"stripe-mock URL", with(prod, stripe, map[string]string{"BOXOFFICE_STRIPE_API_URL": "http://127.0.0.1:12111"}), nil, "", "stripe"},
		{"dev mode defaults to dev", with(prod, map[string]string{"BOXOFFICE_MODE": "dev"}), nil, "", "dev"},
		{"reconcile interval above its bound", with(prod, stripe, map[string]string{"BOXOFFICE_RECONCILE_INTERVAL": "2h"}), nil, "BOXOFFICE_RECONCILE_INTERVAL", ""},
		{"reconcile interval", with(prod, stripe, map[string]string{"BOXOFFICE_RECONCILE_INTERVAL": "30s"}), nil, "", "stripe"},
		{"dev mode with stripe, no webhook secret", with(prod, stripe, map[string]string{"BOXOFFICE_MODE": "dev", "BOXOFFICE_STRIPE_WEBHOOK_SECRET": ""}), nil, "", "stripe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig("serve", tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("parseConfig = %v, want an error naming %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			if c.Payments != tc.payments {
				t.Fatalf("Payments = %q, want %q", c.Payments, tc.payments)
			}
		})
	}
}

// TestPaymentProviderChoice: the node builds the provider the config
// names; a Config made in code that asks for dev payments outside dev mode
// still never gets the test-token provider.
func TestPaymentProviderChoice(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Mode: "dev", Payments: "dev"}, "dev"},
		{Config{Mode: "prod", Payments: "dev"}, "none"},
		{Config{Mode: "prod"}, "none"},
		{Config{Mode: "prod", Payments: "stripe", StripeSecretKey: "sk_test_1"}, "stripe"},
		{Config{Mode: "dev", Payments: "stripe", StripeSecretKey: "sk_test_1"}, "stripe"},
	} {
		p, err := tc.cfg.paymentProvider()
		if err != nil {
			t.Fatalf("%+v: %v", tc.cfg, err)
		}
		var got string
		switch p.(type) {
		case *devpay.Provider:
			got = "dev"
		case noPayments:
			got = "none"
		case *stripepay.Provider:
			got = "stripe"
		}
		if got != tc.want {
			t.Errorf("mode %s payments %q: provider %T, want %s", tc.cfg.Mode, tc.cfg.Payments, p, tc.want)
		}
	}
	if _, err := (Config{Mode: "prod", Payments: "stripe"}).paymentProvider(); err == nil {
		t.Error("a Stripe provider without a key was built")
	}
}
