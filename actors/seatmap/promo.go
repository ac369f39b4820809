package seatmap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Priced holds (issue 19, h19price). A hold may say each seat's ticket
// type and carry a promo code. The map owns the promo codes' use counts:
// a use is taken when a hold is made with the code, given back when the
// hold is released or expires or the sale is refunded, and kept by a
// sale; a reserve that would pass a code's limit is refused here, in the
// actor that serialises every hold of the event, so no concurrency sells
// a code past its limit, and a confirm never fails for a used-up code.

// promoBook counts the uses of each promo code.
type promoBook struct {
	names  []string          // codes ever seen, for hold.promo (1-based)
	ids    map[string]uint16 // code -> 1 + index in names
	limits map[string]int32  // SetPromos: the codes the event knows; 0 no limit
	uses   map[string]int32  // live uses: held plus sold
	sold   map[string]int32  // uses of sold bookings
}

func newPromoBook() promoBook {
	return promoBook{ids: map[string]uint16{}, limits: map[string]int32{}, uses: map[string]int32{}, sold: map[string]int32{}}
}

// id interns a code for a hold.
func (p *promoBook) id(code string) uint16 {
	if k, ok := p.ids[code]; ok {
		return k
	}
	p.names = append(p.names, code)
	k := uint16(len(p.names))
	p.ids[code] = k
	return k
}

func (p *promoBook) name(k uint16) string {
	if k == 0 {
		return ""
	}
	return p.names[k-1]
}

// end accounts for a hold with the code ending: a sale keeps its use.
func (p *promoBook) end(k uint16, sold bool) {
	code := p.name(k)
	if sold {
		p.sold[code]++
		return
	}
	p.add(p.uses, code, -1)
}

func (p *promoBook) refund(code string) {
	p.add(p.sold, code, -1)
	p.add(p.uses, code, -1)
}

func (p *promoBook) add(c map[string]int32, code string, d int32) {
	if c[code] += d; c[code] == 0 {
		delete(c, code)
	}
}

// Priced says a reserve's ticket types and promo code.
type Priced struct {
	// Types is the ticket type of each ticket named (nil: all the first
	// type); standing places take their Want's Type.
	Types []uint8
	Promo string
}

// SetPromos declares the event's promo codes and their use limits (0 = no
// limit). A code left out is unknown to later reserves; holds and sales
// made with it keep their uses.
func (m *Map) SetPromos(limits map[string]int) {
	m.promos.limits = make(map[string]int32, len(limits))
	for c, n := range limits {
		m.promos.limits[c] = int32(n)
	}
}

// PromoUses is how many live uses (held or sold) the code has.
func (m *Map) PromoUses(code string) int { return int(m.promos.uses[code]) }

// PromoSold is how many sold bookings used the code.
func (m *Map) PromoSold(code string) int { return int(m.promos.sold[code]) }

// ReservePriced is Reserve with ticket types and a promo code. Errors
// beyond Reserve's, checked first: invalid_argument with field
// ticket_types (not one type per ticket) or promo_code (a code SetPromos
// did not declare, or one whose uses reached its limit). Nothing is held
// or used on an error.
func (m *Map) ReservePriced(owner, booking uuid.UUID, tickets []uuid.UUID, wants []Want, p Priced, now time.Time, ttl time.Duration) (Record, error) {
	if p.Types != nil && len(p.Types) != len(tickets) {
		return Record{}, boxoffice.InvalidField("ticket_types", "%d ticket types for %d tickets", len(p.Types), len(tickets))
	}
	if p.Promo != "" {
		limit, ok := m.promos.limits[p.Promo]
		if !ok {
			return Record{}, boxoffice.InvalidField("promo_code", "unknown promo code")
		}
		if limit > 0 && m.promos.uses[p.Promo] >= limit {
			return Record{}, boxoffice.InvalidField("promo_code", "the promo code is used up")
		}
		if _, seen := m.promos.ids[p.Promo]; !seen && len(m.promos.names) >= math.MaxUint16 {
			return Record{}, boxoffice.InvalidField("promo_code", "this event has used too many distinct promo codes")
		}
	}
	r, err := m.Reserve(owner, booking, tickets, wants, now, ttl)
	if err != nil {
		return r, err
	}
	types := make([]uint8, 0, len(r.Seats))
	types = append(types, p.Types...)
	types = append(types, make([]uint8, len(tickets)-len(p.Types))...)
	for _, w := range wants {
		for range w.Quantity {
			types = append(types, w.Type)
		}
	}
	if !slices.ContainsFunc(types, func(t uint8) bool { return t != 0 }) {
		types = nil
	}
	if types == nil && p.Promo == "" {
		return r, nil
	}
	r.Types, r.Promo = types, p.Promo
	s, _ := m.holdOf(booking)
	m.setPriced(s, types, p.Promo)
	return r, nil
}

// setPriced gives a new hold its types and promo, taking the code's use.
func (m *Map) setPriced(s uint32, types []uint8, promo string) {
	h := m.holds.at(s)
	if types != nil {
		var t [boxoffice.MaxSeatsPerHold]uint8
		copy(t[:], types)
		m.types[s] = &t
	}
	if promo != "" {
		h.promo = m.promos.id(promo)
		m.promos.uses[promo]++
	}
}

// typeList is the types of the hold in slot s, nil when all are the
// first.
func (m *Map) typeList(s uint32) []uint8 {
	t := m.types[s]
	if t == nil {
		return nil
	}
	return slices.Clone(t[:m.holds.at(s).n])
}

// appendPriced encodes a priced hold's extension:
//
//	byte flags | flags&1: n × byte type | flags&2: uvarint len | promo
//
// A record of an unpriced hold has none (orZero false); a snapshot hold
// always has the flags byte (orZero true).
func appendPriced(buf []byte, types []uint8, promo string, n int, orZero bool) ([]byte, error) {
	var flags byte
	if types != nil {
		if len(types) != n || !slices.ContainsFunc(types, func(x uint8) bool { return x != 0 }) {
			return nil, errors.New("seatmap: types must be one per seat, not all the first")
		}
		flags |= 1
	}
	if promo != "" {
		if len(promo) > maxPromoLen {
			return nil, errors.New("seatmap: promo code too long")
		}
		flags |= 2
	}
	if flags == 0 && !orZero {
		return buf, nil
	}
	buf = append(buf, flags)
	if flags&1 != 0 {
		buf = append(buf, types...)
	}
	if flags&2 != 0 {
		buf = binary.AppendUvarint(buf, uint64(len(promo)))
		buf = append(buf, promo...)
	}
	return buf, nil
}

// maxPromoLen bounds a stored promo code (boxoffice allows 32).
const maxPromoLen = 64

// priced decodes appendPriced's extension, refusing non-canonical forms.
func (d *reader) priced(n int, orZero bool) ([]uint8, string) {
	f := d.bytes(1)
	if d.err != nil {
		return nil, ""
	}
	flags := f[0]
	if flags > 3 || (flags == 0 && !orZero) {
		d.err = fmt.Errorf("seatmap: priced flags %d", flags)
		return nil, ""
	}
	var types []uint8
	var promo string
	if flags&1 != 0 {
		types = slices.Clone(d.bytes(n))
		if d.err == nil && !slices.ContainsFunc(types, func(x uint8) bool { return x != 0 }) {
			d.err = errors.New("seatmap: types all the first")
		}
	}
	if flags&2 != 0 {
		l := d.uvarint()
		if d.err == nil && (l < 1 || l > maxPromoLen) {
			d.err = errors.New("seatmap: promo code length")
		}
		if d.err == nil {
			promo = string(d.bytes(int(l)))
		}
	}
	return types, promo
}

// checkPromos verifies the use counts against the holds and the sold
// counts.
func (m *Map) checkPromos() error {
	for s, t := range m.types {
		h := m.holds.at(s)
		if s >= m.holds.used || h.n == 0 || !slices.ContainsFunc(t[:h.n], func(x uint8) bool { return x != 0 }) {
			return fmt.Errorf("seatmap: ticket types kept for slot %d, which has no typed hold", s)
		}
	}
	held := map[string]int32{}
	for s := range m.holds.used {
		if h := m.holds.at(s); h.n > 0 && h.promo != 0 {
			if int(h.promo) > len(m.promos.names) {
				return fmt.Errorf("seatmap: hold %s has promo %d", h.booking, h.promo)
			}
			held[m.promos.name(h.promo)]++
		}
	}
	for code, n := range m.promos.sold {
		if n < 0 {
			return fmt.Errorf("seatmap: promo %q sold %d", code, n)
		}
		held[code] += n
	}
	for code, n := range held {
		if n != 0 && m.promos.uses[code] != n {
			return fmt.Errorf("seatmap: promo %q counts %d uses, holds and sales say %d", code, m.promos.uses[code], n)
		}
	}
	for code, n := range m.promos.uses {
		if held[code] != n {
			return fmt.Errorf("seatmap: promo %q counts %d uses, holds and sales say %d", code, n, held[code])
		}
	}
	return nil
}
