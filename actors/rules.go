package actors

import (
	"context"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
)

// The event grain owns the sale rules' decisions (API.md): a reserve
// outside the sale window, of a started or cancelled event, is not_on_sale,
// and one that would take a user past max_tickets_per_user is
// limit_reached (the seat map counts each user's seats, seatmap.Owned).
// The rules are read at activation, pushed by every PATCH (UpdateRules) and
// re-read every RulesRefresh in case a push was lost (the engine's poll of
// its active events sends the changed ones, poll.go).

// setRules adopts ev's rules unless the grain already has newer ones.
func (g *grain) setRules(ev boxoffice.Event) {
	if ev.Revision < g.rules.Revision {
		return
	}
	g.rules = ev
	if g.res != nil {
		g.res.revision.Store(ev.Revision)
	}
	if g.m != nil {
		g.m.SetLimit(ev.TicketLimit())
		g.setPromos()
	}
}

// checkOnSale is the first refusal of a reserve (API.md: not_on_sale,
// queue_required, limit_reached, seat_unavailable); it uses the grain's
// clock so tests can move it.
func (g *grain) checkOnSale() error {
	return g.rules.CheckOnSale(g.e.cfg.Now())
}

// onSetRules is a SetRules message: a PATCH through any node, or the
// engine's re-read of a changed event.
func (g *grain) onSetRules(ctx actor.Context, msg *grainpb.SetRules) {
	if g.refuse(ctx) {
		return
	}
	g.setRules(rulesFromPB(msg))
	if ctx.Sender() != nil {
		ctx.Respond(&grainpb.Ack{})
	}
}

// UpdateRules gives the event's grain the event's current sale rules, so
// that the next reserve follows them; api calls it after a PATCH. A grain
// that is not active reads them when it activates.
func (e *Engine) UpdateRules(ctx context.Context, ev boxoffice.Event) error {
	res, err := e.request(ctx, ev.ID, rulesToPB(ev))
	if err != nil {
		return err
	}
	if a, ok := res.(*grainpb.Ack); ok && a.Error != nil {
		return a.Error.Err()
	}
	return nil
}

func rulesToPB(ev boxoffice.Event) *grainpb.SetRules {
	return &grainpb.SetRules{
		Revision: ev.Revision, StartsAt: nanos(ev.StartsAt), SaleStartsAt: nanos(ev.SaleStartsAt),
		SaleEndsAt: nanos(ev.SaleEndsAt), CancelledAt: nanos(ev.CancelledAt),
		MaxTicketsPerUser: int32(ev.TicketLimit()), CreatedAt: nanos(ev.CreatedAt),
		Pricing: pricingToPB(ev.Pricing),
	}
}

func rulesFromPB(p *grainpb.SetRules) boxoffice.Event {
	limit := int(p.MaxTicketsPerUser)
	return boxoffice.Event{
		Revision: p.Revision, StartsAt: fromNanos(p.StartsAt), SaleStartsAt: fromNanos(p.SaleStartsAt),
		SaleEndsAt: fromNanos(p.SaleEndsAt), CancelledAt: fromNanos(p.CancelledAt),
		MaxTicketsPerUser: &limit, CreatedAt: fromNanos(p.CreatedAt),
		Pricing: pricingFromPB(p.Pricing),
	}
}
