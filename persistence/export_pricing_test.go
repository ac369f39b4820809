package persistence

import "github.com/boxoffice/boxoffice"

// PricingColumns exposes the bookings row's pricing columns to the tests.
func PricingColumns(b *boxoffice.Booking) (types, lines, promo *string) { return pricingColumns(b) }
