package actors

import (
	"context"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/cluster"
)

// actionReply answers a confirm whose payment waits for the buyer's action
// (3-D Secure): the hold stays pinned, and the webhook (or the provider,
// asked at the end of PaymentActionWindow) settles the payment.
func actionReply(a *boxoffice.PaymentActionRequired) *grainpb.BookingReply {
	return &grainpb.BookingReply{NextActionType: a.Type, NextActionUrl: a.URL, ChargeId: a.ChargeID}
}

// confirmCall is bookingCall for a confirm, whose answer may also be "the
// payment waits for the buyer's action".
func (e *Engine) confirmCall(ctx context.Context, eventID uuid.UUID, msg *grainpb.Confirm) (boxoffice.Booking, *boxoffice.PaymentActionRequired, error) {
	r, err := cluster.Call[*grainpb.BookingReply](ctx, e.grains, eventID.String(), msg)
	if err != nil {
		return boxoffice.Booking{}, nil, err
	}
	if r.Error != nil {
		return boxoffice.Booking{}, nil, fromPB(r.Error)
	}
	if r.NextActionType != "" {
		return boxoffice.Booking{}, &boxoffice.PaymentActionRequired{ChargeID: r.ChargeId, Type: r.NextActionType, URL: r.NextActionUrl}, nil
	}
	return bookingFromPB(r.Booking), nil, nil
}

// paymentPending is the confirm's answer while the buyer must act: the
// stored booking (still in-progress) as payment-pending with the action.
func paymentPending(stored boxoffice.Booking, a *boxoffice.PaymentActionRequired) boxoffice.Booking {
	stored.Status, stored.NextAction = boxoffice.BookingPaymentPending, a
	return stored
}
