package boxoffice_test

import (
	"testing"

	"github.com/boxoffice/boxoffice"
)

// TestPercentOf pins the one rounding rule: half up to the minor unit.
func TestPercentOf(t *testing.T) {
	for _, c := range []struct {
		m    boxoffice.Money
		bp   int64
		want boxoffice.Money
	}{
		{0, 2000, 0},
		{1000, 2000, 200},   // 20 % of 10.00
		{1, 5000, 1},        // 0.005 rounds up to 0.01
		{1, 4999, 0},        // 0.004999 rounds down
		{333, 1000, 33},     // 33.3 cents
		{335, 1000, 34},     // 33.5 cents: half goes up
		{999, 10000, 999},   // 100 %
		{12345, 750, 926},   // 7.5 % of 123.45 = 9.25875
		{1, 1, 0},           // the smallest rate of the smallest amount
		{1e14, 10000, 1e14}, // large amounts stay exact
		{1999, 1250, 250},   // 12.5 % of 19.99 = 2.49875
		{4, 1250, 1},        // 0.5 cent exactly: up
	} {
		if got := boxoffice.PercentOf(c.m, c.bp); got != c.want {
			t.Errorf("PercentOf(%d, %d) = %d, want %d", c.m, c.bp, got, c.want)
		}
	}
}

func TestPricingLines(t *testing.T) {
	p := boxoffice.Pricing{
		TicketTypes: []boxoffice.TicketType{
			{Name: "adult"},
			{Name: "child", Prices: map[string]boxoffice.Money{"A": 500}},
		},
		Fees: []boxoffice.Fee{
			{Kind: boxoffice.FeeKindFee, Label: "Service fee", Amount: 150},
			{Kind: boxoffice.FeeKindTax, Label: "VAT", PercentBP: 2000},
		},
	}
	base := map[string]boxoffice.Money{"A": 1000, "B": 2000}
	tickets := []boxoffice.PricedTicket{{Section: "A", Type: 0}, {Section: "A", Type: 1}, {Section: "B", Type: 1}}
	for _, c := range []struct {
		name  string
		promo *boxoffice.Promo
		want  []boxoffice.PriceLine
		total boxoffice.Money
	}{
		{"no promo", nil, []boxoffice.PriceLine{
			{"tickets", "adult × 1", 1000}, {"tickets", "child × 2", 2500},
			{"fee", "Service fee", 450}, {"tax", "VAT", 790}}, 4740},
		{"percent on child", &boxoffice.Promo{Code: "KIDS", PercentBP: 3333, Types: []string{"child"}}, []boxoffice.PriceLine{
			{"tickets", "adult × 1", 1000}, {"tickets", "child × 2", 2500}, {"discount", "Promo KIDS", -833},
			{"fee", "Service fee", 450}, {"tax", "VAT", 623}}, 3740},
		{"amount capped at eligible", &boxoffice.Promo{Code: "BIG", Amount: 99999, Sections: []string{"A"}}, []boxoffice.PriceLine{
			{"tickets", "adult × 1", 1000}, {"tickets", "child × 2", 2500}, {"discount", "Promo BIG", -1500},
			{"fee", "Service fee", 450}, {"tax", "VAT", 490}}, 2940},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines, total := p.Lines(base, tickets, c.promo)
			if len(lines) != len(c.want) {
				t.Fatalf("lines %+v, want %+v", lines, c.want)
			}
			var sum boxoffice.Money
			for i := range lines {
				if lines[i] != c.want[i] {
					t.Errorf("line %d = %+v, want %+v", i, lines[i], c.want[i])
				}
				sum += lines[i].Amount
			}
			if total != c.total || sum != total {
				t.Errorf("total %d (lines sum %d), want %d", total, sum, c.total)
			}
		})
	}
}

func TestPricingValidate(t *testing.T) {
	secs := []string{"A", "B"}
	old := []boxoffice.TicketType{{Name: "adult"}, {Name: "child"}}
	for _, c := range []struct {
		name  string
		p     boxoffice.Pricing
		old   []boxoffice.TicketType
		field string
	}{
		{"ok", boxoffice.Pricing{TicketTypes: old, Promos: []boxoffice.Promo{{Code: "X1", PercentBP: 1000, Types: []string{"child"}}}}, nil, ""},
		{"append ok", boxoffice.Pricing{TicketTypes: append(old[:2:2], boxoffice.TicketType{Name: "vip"})}, old, ""},
		{"reorder", boxoffice.Pricing{TicketTypes: []boxoffice.TicketType{{Name: "child"}, {Name: "adult"}}}, old, "ticket_types"},
		{"dup type", boxoffice.Pricing{TicketTypes: []boxoffice.TicketType{{Name: "a"}, {Name: "a"}}}, nil, "ticket_types"},
		{"unknown section", boxoffice.Pricing{TicketTypes: []boxoffice.TicketType{{Name: "a", Prices: map[string]boxoffice.Money{"Z": 1}}}}, nil, "ticket_types"},
		{"tax over 100", boxoffice.Pricing{Fees: []boxoffice.Fee{{Kind: "tax", Label: "T", PercentBP: 10001}}}, nil, "fees"},
		{"bad kind", boxoffice.Pricing{Fees: []boxoffice.Fee{{Kind: "x", Label: "T"}}}, nil, "fees"},
		{"promo both", boxoffice.Pricing{Promos: []boxoffice.Promo{{Code: "X", PercentBP: 1, Amount: 1}}}, nil, "promo_codes"},
		{"promo none", boxoffice.Pricing{Promos: []boxoffice.Promo{{Code: "X"}}}, nil, "promo_codes"},
		{"promo bad code", boxoffice.Pricing{Promos: []boxoffice.Promo{{Code: "a b", Amount: 1}}}, nil, "promo_codes"},
		{"promo unknown type", boxoffice.Pricing{Promos: []boxoffice.Promo{{Code: "X", Amount: 1, Types: []string{"zz"}}}}, nil, "promo_codes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate(secs, c.old)
			got := ""
			if e, ok := err.(*boxoffice.Error); ok {
				got, _ = e.Details["field"].(string)
			}
			if got != c.field || (err == nil) != (c.field == "") {
				t.Fatalf("Validate = %v, want field %q", err, c.field)
			}
		})
	}
}
