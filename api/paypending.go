package api

import "github.com/boxoffice/boxoffice"

// paymentPendingJSON is API.md's 202 answer to a confirm whose payment
// waits for the buyer's action (3-D Secure): the seats stay held until the
// provider settles the payment (then GET /booking/{id} shows it).
type paymentPendingJSON struct {
	BookingID  string         `json:"booking_id"`
	Status     string         `json:"status"`
	NextAction nextActionJSON `json:"next_action"`
}

type nextActionJSON struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"`
}

func renderPaymentPending(b boxoffice.Booking) paymentPendingJSON {
	return paymentPendingJSON{BookingID: b.ID.String(), Status: string(boxoffice.BookingPaymentPending),
		NextAction: nextActionJSON{Type: b.NextAction.Type, URL: b.NextAction.URL}}
}
