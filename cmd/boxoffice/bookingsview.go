package main

import (
	"context"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/persistence"
)

// bookingsView is the API's Bookings: one booking by ID through the seat
// engine, which answers a hold its bookings projection has not written yet
// (GET /booking/{id}, confirm and release of a fresh hold are exact), and
// a user's list from PostgreSQL, which may miss a hold made within the
// projection's lag (BOXOFFICE_BOOKINGS_WINDOW plus one write).
type bookingsView struct {
	*persistence.DB
	engine *actors.Engine
}

// Booking returns one booking as the engine committed it.
func (v bookingsView) Booking(ctx context.Context, id uuid.UUID) (boxoffice.Booking, error) {
	if v.engine == nil {
		return v.DB.Booking(ctx, id)
	}
	return v.engine.Booking(ctx, id)
}
