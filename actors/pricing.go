package actors

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// The grain owns pricing (issue 19, h19price): it resolves a reserve's
// ticket types and promo code against the event's pricing, the seat map
// keeps them with the hold (and the promo's use count), and every booking
// row and payment amount is quoted from the hold, so what a payment
// charges is the total the booking shows.

// priced resolves a reserve's ticket types and promo code. Errors:
// invalid_argument with field ticket_types (an unknown type), standing (an
// unknown type of places) or promo_code (unknown, not valid now, or
// applying to none of the tickets asked for).
func (g *grain) priced(msg *grainpb.Reserve, tickets []uuid.UUID, wants []seatmap.Want, now time.Time) (seatmap.Priced, error) {
	p := g.rules.Pricing
	var out seatmap.Priced
	if len(msg.TicketTypes) > 0 {
		if len(msg.TicketTypes) != len(tickets) {
			return out, boxoffice.InvalidField("ticket_types", "one ticket type per ticket id: %d for %d", len(msg.TicketTypes), len(tickets))
		}
		out.Types = make([]uint8, len(tickets))
		for k, name := range msg.TicketTypes {
			i, ok := p.TypeIndex(name)
			if !ok {
				return out, boxoffice.InvalidField("ticket_types", "unknown ticket type %q", name)
			}
			out.Types[k] = uint8(i)
		}
	}
	for k, w := range msg.Standing {
		i, ok := p.TypeIndex(w.TicketType)
		if !ok {
			return out, boxoffice.InvalidField("standing", "unknown ticket type %q", w.TicketType)
		}
		if k < len(wants) {
			wants[k].Type = uint8(i)
		}
	}
	if msg.PromoCode == "" {
		return out, nil
	}
	pr, ok := p.Promo(msg.PromoCode)
	if !ok {
		return out, boxoffice.InvalidField("promo_code", "unknown promo code")
	}
	if !pr.Valid(now) {
		return out, boxoffice.InvalidField("promo_code", "the promo code is not valid now")
	}
	applies := false
	for k, t := range tickets {
		if i, ok := g.m.Index(t); ok {
			typ := 0
			if out.Types != nil {
				typ = int(out.Types[k])
			}
			applies = applies || pr.Applies(g.sectionOf(int32(i)), p.TypeName(typ))
		}
	}
	for _, w := range wants {
		applies = applies || pr.Applies(w.Section, p.TypeName(int(w.Type)))
	}
	if !applies {
		return out, boxoffice.InvalidField("promo_code", "the promo code applies to none of these tickets")
	}
	out.Promo = msg.PromoCode
	return out, nil
}

// sectionOf is the name of seat i's section.
func (g *grain) sectionOf(i int32) string {
	k := sort.SearchInts(g.priceEnds, int(i)+1)
	if k < len(g.sections) {
		return g.sections[k]
	}
	return ""
}

// quote prices a hold: its total and, for an event with pricing or a
// priced hold, its price lines and its tickets' type names. An event sold
// at one price per section keeps the fast path (no lines).
func (g *grain) quote(info seatmap.HoldInfo) (boxoffice.Money, []boxoffice.PriceLine, []string) {
	p := g.rules.Pricing
	if !p.Typed() && info.Types == nil && info.Promo == "" {
		return g.price(info.Seats), nil, nil
	}
	tickets := make([]boxoffice.PricedTicket, len(info.Seats))
	var names []string
	if len(p.TicketTypes) > 0 {
		names = make([]string, len(info.Seats))
	}
	for k, s := range info.Seats {
		tickets[k].Section = g.sectionOf(s)
		if info.Types != nil {
			tickets[k].Type = int(info.Types[k])
		}
		if names != nil {
			names[k] = p.TypeName(tickets[k].Type)
		}
	}
	var promo *boxoffice.Promo
	if pr, ok := p.Promo(info.Promo); ok && info.Promo != "" {
		promo = &pr
	} else if info.Promo != "" {
		// The code was removed after the hold took it: the hold keeps
		// its code's use but, with its terms gone, no discount.
		promo = &boxoffice.Promo{Code: info.Promo}
	}
	lines, total := p.Lines(g.base, tickets, promo)
	return total, lines, names
}

// total is what the hold's payment charges: its quoted total.
func (g *grain) total(info seatmap.HoldInfo) boxoffice.Money {
	t, _, _ := g.quote(info)
	return t
}

// setPromos gives the seat map the event's promo codes and their limits.
func (g *grain) setPromos() {
	limits := make(map[string]int, len(g.rules.Pricing.Promos))
	for _, pr := range g.rules.Pricing.Promos {
		limits[pr.Code] = pr.Limit
	}
	g.m.SetPromos(limits)
}

// pricingToPB and pricingFromPB carry an event's pricing in SetRules as
// JSON (it changes rarely and is read once per change).
func pricingToPB(p boxoffice.Pricing) []byte {
	if !p.Typed() {
		return nil
	}
	b, _ := json.Marshal(p)
	return b
}

func pricingFromPB(b []byte) boxoffice.Pricing {
	var p boxoffice.Pricing
	if len(b) > 0 {
		_ = json.Unmarshal(b, &p) // written by pricingToPB
	}
	return p
}

func priceLinesToPB(lines []boxoffice.PriceLine) []*grainpb.PriceLine {
	out := make([]*grainpb.PriceLine, len(lines))
	for k, l := range lines {
		out[k] = &grainpb.PriceLine{Kind: l.Kind, Label: l.Label, AmountMinor: int64(l.Amount)}
	}
	return out
}

func priceLinesFromPB(lines []*grainpb.PriceLine) []boxoffice.PriceLine {
	if len(lines) == 0 {
		return nil
	}
	out := make([]boxoffice.PriceLine, len(lines))
	for k, l := range lines {
		out[k] = boxoffice.PriceLine{Kind: l.Kind, Label: l.Label, Amount: boxoffice.Money(l.AmountMinor)}
	}
	return out
}
