package main

import (
	"errors"
	"fmt"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
	"github.com/boxoffice/boxoffice/api/devpay"
	"github.com/boxoffice/boxoffice/api/stripepay"
)

// validatePayments refuses a node that would take orders it cannot be paid
// for: prod needs a provider that charges (the dev provider accepts test
// tokens, so it would give seats away), and Stripe needs its keys.
func (c Config) validatePayments() error {
	switch {
	case c.Payments != "" && c.Payments != "dev" && c.Payments != "stripe":
		return fmt.Errorf("BOXOFFICE_PAYMENTS=%q: want dev or stripe", c.Payments)
	case c.Mode == api.ModeProd && c.Payments == "dev":
		return errors.New("prod mode refuses BOXOFFICE_PAYMENTS=dev: its test tokens charge nothing; set BOXOFFICE_PAYMENTS=stripe")
	case c.Mode == api.ModeProd && c.Payments == "":
		return errors.New("prod mode needs a payment provider that can charge: set BOXOFFICE_PAYMENTS=stripe and BOXOFFICE_STRIPE_SECRET_KEY")
	case c.Payments == "stripe" && c.StripeSecretKey == "":
		return errors.New("BOXOFFICE_PAYMENTS=stripe needs BOXOFFICE_STRIPE_SECRET_KEY")
	case c.Payments == "stripe" && c.Mode == api.ModeProd && c.StripeWebhookSecret == "":
		return errors.New("BOXOFFICE_PAYMENTS=stripe in prod needs BOXOFFICE_STRIPE_WEBHOOK_SECRET: payments that need the customer's action settle by webhook")
	}
	return nil
}

// paymentProvider is the provider c names. A Config built in code (not by
// parseConfig) that asks for dev payments outside dev mode gets one that
// declines everything: test tokens never sell seats in prod.
func (c Config) paymentProvider() (boxoffice.PaymentProvider, error) {
	switch {
	case c.Payments == "stripe":
		sc := stripepay.Config{SecretKey: c.StripeSecretKey, APIURL: c.StripeAPIURL, ReturnURL: c.PublicURL}
		if c.stripeTune != nil {
			c.stripeTune(&sc)
		}
		p, err := stripepay.New(sc)
		if err != nil {
			return nil, fmt.Errorf("payments: %w", err)
		}
		return p, nil
	case c.Mode == api.ModeDev && c.devPay != nil:
		return c.devPay, nil
	case c.Mode == api.ModeDev:
		return devpay.New(), nil
	}
	return noPayments{}, nil
}

// stripeTuner adjusts the Stripe provider's settings before it is built
// (Config.stripeTune; tests only).
type stripeTuner = func(*stripepay.Config)
