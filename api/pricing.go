package api

import (
	"time"

	"github.com/boxoffice/boxoffice"
)

// Ticket types, fees and tax, promo codes on the wire (issue 19,
// h19price). Money is a decimal string like every price of API.md, and a
// percent is a decimal string with at most two fraction digits ("7.5").

// pricingJSON is the part of an event's create and PATCH bodies that sets
// its pricing; in a PATCH each list given replaces the event's.
type pricingJSON struct {
	TicketTypes *[]ticketTypeJSON `json:"ticket_types,omitempty"`
	Fees        *[]feeJSON        `json:"fees,omitempty"`
	PromoCodes  *[]promoJSON      `json:"promo_codes,omitempty"`
}

type ticketTypeJSON struct {
	Name string `json:"name"`
	// Prices per section; a section left out sells at the event's price.
	Prices map[string]string `json:"prices,omitempty"`
}

type feeJSON struct {
	Kind    string `json:"kind"`
	Label   string `json:"label"`
	Amount  string `json:"amount,omitempty"`
	Percent string `json:"percent,omitempty"`
}

type promoJSON struct {
	Code        string   `json:"code"`
	Percent     string   `json:"percent,omitempty"`
	Amount      string   `json:"amount,omitempty"`
	Limit       int      `json:"limit,omitempty"`
	ValidFrom   string   `json:"valid_from,omitempty"`
	ValidUntil  string   `json:"valid_until,omitempty"`
	Sections    []string `json:"sections,omitempty"`
	TicketTypes []string `json:"ticket_types,omitempty"`
	// Uses is how many live uses the code has (admin replies only; not
	// counted here, so omitted).
}

type priceLineJSON struct {
	Kind   string `json:"kind"`
	Label  string `json:"label"`
	Amount string `json:"amount"`
}

// apply parses the lists given over p (the event's current pricing);
// errors are invalid_argument naming the list. The venue-dependent
// checks are the store's (Pricing.Validate).
func (j pricingJSON) apply(p *boxoffice.Pricing) error {
	if j.TicketTypes != nil {
		p.TicketTypes = nil
		for _, t := range *j.TicketTypes {
			tt := boxoffice.TicketType{Name: t.Name}
			if len(t.Prices) > maxPrices {
				return boxoffice.InvalidField("ticket_types", "too many prices")
			}
			for s, v := range t.Prices {
				m, err := boxoffice.ParseMoney(v)
				if err != nil {
					return boxoffice.InvalidField("ticket_types", "prices must be decimals such as \"149.50\"")
				}
				if tt.Prices == nil {
					tt.Prices = map[string]boxoffice.Money{}
				}
				tt.Prices[s] = m
			}
			p.TicketTypes = append(p.TicketTypes, tt)
		}
	}
	if j.Fees != nil {
		p.Fees = nil
		for _, f := range *j.Fees {
			fee := boxoffice.Fee{Kind: f.Kind, Label: f.Label}
			var err error
			if f.Amount != "" {
				if fee.Amount, err = boxoffice.ParseMoney(f.Amount); err != nil {
					return boxoffice.InvalidField("fees", "amount must be a decimal such as \"2.50\"")
				}
			}
			if f.Percent != "" {
				bp, err := boxoffice.ParseMoney(f.Percent)
				if err != nil {
					return boxoffice.InvalidField("fees", "percent must be a decimal such as \"7.5\"")
				}
				fee.PercentBP = int64(bp)
			}
			p.Fees = append(p.Fees, fee)
		}
	}
	if j.PromoCodes != nil {
		p.Promos = nil
		for _, c := range *j.PromoCodes {
			pr := boxoffice.Promo{Code: c.Code, Limit: c.Limit, Sections: c.Sections, Types: c.TicketTypes}
			var err error
			if c.Amount != "" {
				if pr.Amount, err = boxoffice.ParseMoney(c.Amount); err != nil {
					return boxoffice.InvalidField("promo_codes", "amount must be a decimal such as \"5.00\"")
				}
			}
			if c.Percent != "" {
				bp, err := boxoffice.ParseMoney(c.Percent)
				if err != nil {
					return boxoffice.InvalidField("promo_codes", "percent must be a decimal such as \"10\"")
				}
				pr.PercentBP = int64(bp)
			}
			for _, f := range []struct {
				in  string
				out *time.Time
			}{{c.ValidFrom, &pr.ValidFrom}, {c.ValidUntil, &pr.ValidUntil}} {
				if f.in == "" {
					continue
				}
				if *f.out, err = parseTime("promo_codes", f.in); err != nil {
					return err
				}
			}
			p.Promos = append(p.Promos, pr)
		}
	}
	return nil
}

func (j pricingJSON) given() bool {
	return j.TicketTypes != nil || j.Fees != nil || j.PromoCodes != nil
}

// renderTypes and renderFees are the public part of an event's pricing
// (GET /events/{id}); promo codes are shown to admins only.
func renderTypes(p boxoffice.Pricing) []ticketTypeJSON {
	if len(p.TicketTypes) == 0 {
		return nil
	}
	out := make([]ticketTypeJSON, len(p.TicketTypes))
	for k, t := range p.TicketTypes {
		out[k] = ticketTypeJSON{Name: t.Name}
		if len(t.Prices) > 0 {
			out[k].Prices = make(map[string]string, len(t.Prices))
			for s, m := range t.Prices {
				out[k].Prices[s] = m.String()
			}
		}
	}
	return out
}

func renderFees(p boxoffice.Pricing) []feeJSON {
	if len(p.Fees) == 0 {
		return nil
	}
	out := make([]feeJSON, len(p.Fees))
	for k, f := range p.Fees {
		out[k] = feeJSON{Kind: f.Kind, Label: f.Label}
		if f.Kind == boxoffice.FeeKindTax {
			out[k].Percent = percentText(f.PercentBP)
		} else {
			out[k].Amount = f.Amount.String()
		}
	}
	return out
}

func renderPromos(p boxoffice.Pricing) []promoJSON {
	if len(p.Promos) == 0 {
		return nil
	}
	out := make([]promoJSON, len(p.Promos))
	for k, pr := range p.Promos {
		out[k] = promoJSON{Code: pr.Code, Limit: pr.Limit, Sections: pr.Sections, TicketTypes: pr.Types}
		if pr.PercentBP > 0 {
			out[k].Percent = percentText(pr.PercentBP)
		} else {
			out[k].Amount = pr.Amount.String()
		}
		if !pr.ValidFrom.IsZero() {
			out[k].ValidFrom = timeText(pr.ValidFrom)
		}
		if !pr.ValidUntil.IsZero() {
			out[k].ValidUntil = timeText(pr.ValidUntil)
		}
	}
	return out
}

// percentText shows basis points as a percent ("20.00").
func percentText(bp int64) string { return boxoffice.Money(bp).String() }

// renderPriceLines is a booking's price_lines: its stored lines, or one
// line of tickets for a booking of an event without pricing.
func renderPriceLines(b boxoffice.Booking) []priceLineJSON {
	if b.PriceLines == nil {
		return []priceLineJSON{{Kind: "tickets", Label: "Tickets", Amount: b.Total.String()}}
	}
	out := make([]priceLineJSON, len(b.PriceLines))
	for k, l := range b.PriceLines {
		out[k] = priceLineJSON{Kind: l.Kind, Label: l.Label, Amount: l.Amount.String()}
	}
	return out
}
