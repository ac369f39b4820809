package boxoffice

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Notice types (API.md "Tickets and check-in"): what buyers are mailed about
// and organisers' webhooks subscribe to. They are the outbox topics of the
// notices and the `type` of a webhook delivery's body.
const (
	NoticeBookingConfirmed = "booking.confirmed"
	NoticeBookingRefunded  = "booking.refunded"
	NoticeEventCancelled   = "event.cancelled"
	NoticeEventSoldOut     = "event.sold_out"
)

// NoticeTypes lists every notice type, in the order API.md names them.
var NoticeTypes = []string{NoticeBookingConfirmed, NoticeBookingRefunded, NoticeEventCancelled, NoticeEventSoldOut}

// IsNoticeType reports whether t is one of NoticeTypes; the outbox relay
// uses it to route a row to the notice stream instead of the catalog's.
func IsNoticeType(t string) bool {
	for _, n := range NoticeTypes {
		if n == t {
			return true
		}
	}
	return false
}

// Notice is one thing that happened which people outside the system are
// told about. It is written to the outbox in the same transaction as the
// change that causes it (a sale's commit, a refund's, a cancellation's), so
// it is sent if and only if the change is durable; it reaches the workers
// through JetStream at least once, and they de-duplicate it by ID (the
// outbox row's id, which they get with the message).
//
// Its JSON form is the outbox payload and the `data` of a webhook delivery
// (money as API.md's decimal string).
type Notice struct {
	Type       string      `json:"type"`
	EventID    uuid.UUID   `json:"event_id"`
	BookingID  uuid.UUID   `json:"booking_id,omitzero"`
	UserID     uuid.UUID   `json:"user_id,omitzero"`
	TicketIDs  []uuid.UUID `json:"ticket_ids,omitempty"`
	Total      Money       `json:"-"`
	Currency   string      `json:"currency,omitempty"`
	OccurredAt time.Time   `json:"occurred_at"`
}

type noticeJSON Notice

// MarshalJSON adds the total as a decimal string beside the currency.
func (n Notice) MarshalJSON() ([]byte, error) {
	var total string
	if n.Currency != "" {
		total = n.Total.String()
	}
	return json.Marshal(struct {
		noticeJSON
		Total string `json:"total,omitempty"`
	}{noticeJSON(n), total})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (n *Notice) UnmarshalJSON(b []byte) error {
	var v struct {
		noticeJSON
		Total string `json:"total"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Notice(v.noticeJSON)
	if v.Total != "" {
		t, err := ParseMoney(v.Total)
		if err != nil {
			return err
		}
		n.Total = t
	}
	return nil
}

// BookingNotice is the notice of type typ about booking b (confirmed or
// refunded) at time at.
func BookingNotice(typ string, b Booking, at time.Time) Notice {
	return Notice{Type: typ, EventID: b.EventID, BookingID: b.ID, UserID: b.UserID,
		TicketIDs: b.TicketIDs, Total: b.Total, Currency: b.Currency, OccurredAt: at}
}

// EventNotice is the notice of type typ about a whole event (cancelled or
// sold out) at time at.
func EventNotice(typ string, eventID uuid.UUID, at time.Time) Notice {
	return Notice{Type: typ, EventID: eventID, OccurredAt: at}
}

// Validate reports a notice that no worker could act on: an unknown type,
// no event, or a booking notice without its booking.
func (n Notice) Validate() error {
	if !IsNoticeType(n.Type) {
		return Errorf(EInvalid, "unknown notice type %q", n.Type)
	}
	if n.EventID == uuid.Nil {
		return Errorf(EInvalid, "notice %s without an event", n.Type)
	}
	if (n.Type == NoticeBookingConfirmed || n.Type == NoticeBookingRefunded) && n.BookingID == uuid.Nil {
		return Errorf(EInvalid, "notice %s without a booking", n.Type)
	}
	return nil
}

// Webhook is an organiser's endpoint for notices (POST /admin/api/webhooks).
// Secret is the Standard Webhooks signing secret ("whsec_" and base64): it
// is shown once, when the webhook is created.
type Webhook struct {
	ID        uuid.UUID
	URL       string
	Events    []string
	Secret    string
	CreatedAt time.Time
	// OrgID is the organisation that registered it: it gets that
	// organisation's events' notices only. uuid.Nil (an admin's) gets all.
	OrgID uuid.UUID
}

// WebhookStatus is a webhook with how its deliveries fare, for the
// dashboard: failures must be visible, since they are retried quietly.
type WebhookStatus struct {
	Webhook
	Pending     int       // deliveries not yet answered with a 2xx
	Delivered   int       // deliveries answered with a 2xx
	Attempts    int       // attempts of the pending deliveries, summed
	LastError   string    // the latest failed attempt's error, "" if none
	LastErrorAt time.Time // when it failed
}

// WebhookDelivery is one notice on its way to one webhook: the exact body
// that is signed and sent, the same on every attempt.
type WebhookDelivery struct {
	WebhookID uuid.UUID
	URL       string
	Secret    string
	// MessageID is the Standard Webhooks `webhook-id`: the same for every
	// attempt, so the receiver can drop a duplicate.
	MessageID string
	Body      []byte
	Attempts  int // attempts before this one
	// OrgID is the webhook's organisation: an organiser's webhook is sent
	// only to addresses WebhookAddrs permits (checked when connecting).
	OrgID uuid.UUID
}

// WebhookStore keeps organisers' webhooks and their deliveries' state.
type WebhookStore interface {
	// CreateWebhook stores w (its ID and secret set by the caller).
	CreateWebhook(ctx context.Context, w Webhook) (Webhook, error)
	// Webhooks lists every webhook with its delivery state, oldest first.
	Webhooks(ctx context.Context) ([]WebhookStatus, error)
}
