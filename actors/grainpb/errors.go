package grainpb

import (
	"errors"

	"github.com/boxoffice/boxoffice"
)

// ErrorOf carries a domain error across the wire for every grain kind (the
// waiting room's messages use this Error too), keeping the details API.md
// promises (ticket_ids, field, limit and current). Anything that is not a
// *boxoffice.Error becomes unavailable, since the caller may retry it; nil
// stays nil.
func ErrorOf(err error) *Error {
	if err == nil {
		return nil
	}
	var e *boxoffice.Error
	if !errors.As(err, &e) {
		return &Error{Code: boxoffice.EUnavailable, Message: "the server could not answer; retry shortly"}
	}
	out := &Error{Code: e.Code, Message: e.Message}
	if ids, ok := e.Details["ticket_ids"].([]string); ok {
		out.TicketIds = ids
	}
	if f, ok := e.Details["field"].(string); ok {
		out.Field = f
	}
	if sec, ok := e.Details["section"].(string); ok {
		left, _ := e.Details["left"].(int)
		out.Section, out.Left = sec, int64(left)
	}
	if q, ok := e.Details["quantity"].(int); ok {
		out.Quantity = int64(q)
	}
	if e.Code == boxoffice.ELimitReached {
		l, _ := e.Details["limit"].(int)
		c, _ := e.Details["current"].(int)
		out.Limit, out.Current = int64(l), int64(c)
	}
	return out
}

// Err is the domain error p carries, with its details; nil when p is nil.
func (p *Error) Err() error {
	if p == nil {
		return nil
	}
	e := &boxoffice.Error{Code: p.Code, Message: p.Message}
	switch {
	case p.Code == boxoffice.ESeatUnavailable || len(p.TicketIds) > 0:
		ids := p.TicketIds
		if ids == nil {
			ids = []string{}
		}
		e.Details = map[string]any{"ticket_ids": ids}
		if p.Section != "" {
			e.Details["section"], e.Details["left"] = p.Section, int(p.Left)
		}
		if p.Quantity > 0 {
			e.Details["quantity"] = int(p.Quantity)
		}
	case p.Field != "":
		e.Details = map[string]any{"field": p.Field}
	case p.Code == boxoffice.ELimitReached:
		e.Details = map[string]any{"limit": int(p.Limit), "current": int(p.Current)}
	}
	return e
}
