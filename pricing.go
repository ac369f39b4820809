package boxoffice

import (
	"fmt"
	"slices"
	"time"
)

// Pricing is what an event adds to its one-price-per-section list
// (API.md "General admission and ticket types"): ticket types with a
// price per (section, type), fees and tax shown as lines of a booking's
// total, and promo codes. The zero Pricing sells every ticket at its
// section's price with no fee, which is the fast path of the seat engine:
// its holds carry no type and no promo.
type Pricing struct {
	// TicketTypes are the kinds of buyer (adult, child, concession). The
	// first is the default of a reserve that names none. Holds refer to a
	// type by its position, so a change may append types but must not
	// reorder or remove them (Validate refuses that against the old list).
	TicketTypes []TicketType `json:"ticket_types,omitempty"`
	Fees        []Fee        `json:"fees,omitempty"`
	Promos      []Promo      `json:"promo_codes,omitempty"`
}

// TicketType is one kind of buyer with its price per section; a section
// it does not price sells at the event's section price (Event.Prices).
type TicketType struct {
	Name   string           `json:"name"`
	Prices map[string]Money `json:"prices_minor,omitempty"`
}

// Fee kinds.
const (
	// FeeKindFee is an amount per ticket (a service fee).
	FeeKindFee = "fee"
	// FeeKindTax is a percentage of the tickets after discount plus the
	// fees.
	FeeKindTax = "tax"
)

// Fee is a fee or a tax line of every booking of the event.
type Fee struct {
	Kind  string `json:"kind"` // FeeKindFee or FeeKindTax
	Label string `json:"label"`
	// Amount is a fee's amount per ticket.
	Amount Money `json:"amount_minor,omitempty"`
	// PercentBP is a tax's rate in basis points (hundredths of a percent:
	// 2000 is 20 %).
	PercentBP int64 `json:"percent_bp,omitempty"`
}

// Promo is a discount code of the event. Exactly one of PercentBP and
// Amount is set. A use is taken when a hold is made with the code and
// given back when the hold ends unsold or the sale is refunded; the event
// grain keeps the count, so Limit is never passed.
type Promo struct {
	Code string `json:"code"`
	// PercentBP discounts the tickets it applies to by this many basis
	// points; Amount takes a fixed amount off them (at most their price).
	PercentBP int64 `json:"percent_bp,omitempty"`
	Amount    Money `json:"amount_minor,omitempty"`
	// Limit is how many live uses (held or sold) the code may have; 0 is
	// no limit.
	Limit int `json:"limit,omitempty"`
	// ValidFrom and ValidUntil bound when a hold may use the code; zero
	// is no bound.
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
	// Sections and Types limit the tickets the discount applies to; empty
	// is all.
	Sections []string `json:"sections,omitempty"`
	Types    []string `json:"types,omitempty"`
}

// PriceLine is one line of a booking's price; the lines add up to its
// total.
type PriceLine struct {
	Kind   string `json:"kind"` // "tickets", "discount", "fee" or "tax"
	Label  string `json:"label"`
	Amount Money  `json:"amount_minor"`
}

// Limits of an event's pricing.
const (
	MaxTicketTypes = 10
	MaxFees        = 10
	MaxPromos      = 1000
	maxNameLen     = 64
)

// PercentOf is bp basis points of m in minor units, rounded half up to
// the nearest minor unit (0.5 cent goes up; amounts here are never
// negative). This is the one rounding rule of boxoffice's prices: a
// percentage (a percent promo, a tax) is computed once per line on the
// line's integer base, never per ticket, so the lines of a booking add
// up exactly to its total.
func PercentOf(m Money, bp int64) Money {
	return Money((int64(m)*bp + 5000) / 10000)
}

// Typed reports whether the event has any pricing beyond one price per
// section.
func (p Pricing) Typed() bool {
	return len(p.TicketTypes) > 0 || len(p.Fees) > 0 || len(p.Promos) > 0
}

// TypeIndex is the position of the named type; "" is the first (0). An
// event without types knows only "".
func (p Pricing) TypeIndex(name string) (int, bool) {
	if name == "" {
		return 0, true
	}
	i := slices.IndexFunc(p.TicketTypes, func(t TicketType) bool { return t.Name == name })
	return i, i >= 0
}

// TypeName is the name of type i ("" for an event without types).
func (p Pricing) TypeName(i int) string {
	if i < 0 || i >= len(p.TicketTypes) {
		return ""
	}
	return p.TicketTypes[i].Name
}

// Promo finds a code (codes are case-sensitive).
func (p Pricing) Promo(code string) (Promo, bool) {
	i := slices.IndexFunc(p.Promos, func(x Promo) bool { return x.Code == code })
	if i < 0 {
		return Promo{}, false
	}
	return p.Promos[i], true
}

// Valid reports whether the code may be used for a hold made at now.
func (pr Promo) Valid(now time.Time) bool {
	return (pr.ValidFrom.IsZero() || !now.Before(pr.ValidFrom)) && (pr.ValidUntil.IsZero() || now.Before(pr.ValidUntil))
}

// Applies reports whether the code discounts a ticket of the section and
// type.
func (pr Promo) Applies(section, typ string) bool {
	return (len(pr.Sections) == 0 || slices.Contains(pr.Sections, section)) &&
		(len(pr.Types) == 0 || slices.Contains(pr.Types, typ))
}

// PricedTicket is one ticket of a booking as pricing sees it.
type PricedTicket struct {
	Section string
	Type    int // index into TicketTypes (0 without types)
}

// Lines prices tickets: one "tickets" line per type used (in type order),
// a "discount" line for the promo (negative), a "fee" line per fee and a
// "tax" line per tax, each rounded by PercentOf's rule; total is their
// sum. base is the event's price per section (Event.Prices). promo may be
// nil.
func (p Pricing) Lines(base map[string]Money, tickets []PricedTicket, promo *Promo) (lines []PriceLine, total Money) {
	nTypes := max(1, len(p.TicketTypes))
	sums := make([]Money, nTypes)
	counts := make([]int, nTypes)
	var subtotal, eligible Money
	for _, t := range tickets {
		k := min(max(t.Type, 0), nTypes-1)
		price := base[t.Section]
		if k < len(p.TicketTypes) {
			if tp, ok := p.TicketTypes[k].Prices[t.Section]; ok {
				price = tp
			}
		}
		sums[k] += price
		counts[k]++
		subtotal += price
		if promo != nil && promo.Applies(t.Section, p.TypeName(k)) {
			eligible += price
		}
	}
	for k := range sums {
		if counts[k] == 0 {
			continue
		}
		label := "Tickets"
		if k < len(p.TicketTypes) {
			label = p.TicketTypes[k].Name
		}
		lines = append(lines, PriceLine{Kind: "tickets", Label: fmt.Sprintf("%s × %d", label, counts[k]), Amount: sums[k]})
	}
	running := subtotal
	if promo != nil {
		d := promo.Amount
		if promo.PercentBP > 0 {
			d = PercentOf(eligible, promo.PercentBP)
		}
		d = min(d, eligible)
		lines = append(lines, PriceLine{Kind: "discount", Label: "Promo " + promo.Code, Amount: -d})
		running -= d
	}
	for _, f := range p.Fees {
		if f.Kind == FeeKindFee {
			a := f.Amount * Money(len(tickets))
			lines = append(lines, PriceLine{Kind: FeeKindFee, Label: f.Label, Amount: a})
			running += a
		}
	}
	taxBase := running
	for _, f := range p.Fees {
		if f.Kind == FeeKindTax {
			a := PercentOf(taxBase, f.PercentBP)
			lines = append(lines, PriceLine{Kind: FeeKindTax, Label: f.Label, Amount: a})
			running += a
		}
	}
	return lines, running
}

// Validate checks the pricing against the venue's section names and, for
// a change, the types the event had before (old may be nil): types may
// be appended, never reordered or removed, since live holds name them by
// position. Errors are invalid_argument naming the field.
func (p Pricing) Validate(sections []string, old []TicketType) error {
	if len(p.TicketTypes) > MaxTicketTypes {
		return InvalidField("ticket_types", "at most %d ticket types", MaxTicketTypes)
	}
	names := make([]string, 0, len(p.TicketTypes))
	for k, t := range p.TicketTypes {
		if t.Name == "" || len(t.Name) > maxNameLen || slices.Contains(names, t.Name) {
			return InvalidField("ticket_types", "ticket type %d: a name of 1..%d bytes, each once", k, maxNameLen)
		}
		names = append(names, t.Name)
		for s := range t.Prices {
			if !slices.Contains(sections, s) {
				return InvalidField("ticket_types", "ticket type %q prices section %q, which the venue does not have", t.Name, s)
			}
		}
	}
	for k, t := range old {
		if k >= len(p.TicketTypes) || p.TicketTypes[k].Name != t.Name {
			return InvalidField("ticket_types", "ticket types may be added at the end, not removed, renamed or reordered (%q)", t.Name)
		}
	}
	if len(p.Fees) > MaxFees {
		return InvalidField("fees", "at most %d fees", MaxFees)
	}
	for _, f := range p.Fees {
		switch {
		case f.Label == "" || len(f.Label) > maxNameLen:
			return InvalidField("fees", "a fee needs a label of 1..%d bytes", maxNameLen)
		case f.Kind == FeeKindFee && f.Amount >= 0 && f.PercentBP == 0:
		case f.Kind == FeeKindTax && f.PercentBP >= 0 && f.PercentBP <= 10000 && f.Amount == 0:
		default:
			return InvalidField("fees", "fee %q: kind fee with an amount, or kind tax with a percent of 0..100", f.Label)
		}
	}
	if len(p.Promos) > MaxPromos {
		return InvalidField("promo_codes", "at most %d promo codes", MaxPromos)
	}
	codes := make([]string, 0, len(p.Promos))
	for _, pr := range p.Promos {
		if !validCode(pr.Code) || slices.Contains(codes, pr.Code) {
			return InvalidField("promo_codes", "promo code %q: 1..32 letters, digits, '-' or '_', each once", pr.Code)
		}
		codes = append(codes, pr.Code)
		if (pr.PercentBP > 0) == (pr.Amount > 0) || pr.PercentBP < 0 || pr.PercentBP > 10000 || pr.Amount < 0 || pr.Limit < 0 {
			return InvalidField("promo_codes", "promo code %q: a percent of 0..100 or an amount, and a limit of 0 or more", pr.Code)
		}
		if !pr.ValidFrom.IsZero() && !pr.ValidUntil.IsZero() && !pr.ValidFrom.Before(pr.ValidUntil) {
			return InvalidField("promo_codes", "promo code %q: valid_from must be before valid_until", pr.Code)
		}
		for _, s := range pr.Sections {
			if !slices.Contains(sections, s) {
				return InvalidField("promo_codes", "promo code %q names section %q, which the venue does not have", pr.Code, s)
			}
		}
		for _, t := range pr.Types {
			if !slices.Contains(names, t) {
				return InvalidField("promo_codes", "promo code %q names ticket type %q, which the event does not have", pr.Code, t)
			}
		}
	}
	return nil
}

// validCode: promo codes are 1..32 ASCII letters, digits, '-' and '_'.
func validCode(c string) bool {
	if c == "" || len(c) > 32 {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
