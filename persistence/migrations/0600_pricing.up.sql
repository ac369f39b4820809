-- Ticket types, fees and tax, promo codes (issue 19, h19price).
-- events.pricing is the event's boxoffice.Pricing as JSON (NULL: one
-- price per section, no fee, no promo). A booking keeps what its hold was
-- priced at: ticket_types is each ticket's type, in the order of
-- ticket_ids (NULL for an event without types), price_lines the lines its
-- total_minor adds up ([{"kind","label","amount_minor"}], NULL: one line
-- of tickets), promo_code the code its hold used (NULL: none). Reports
-- group by these.
ALTER TABLE events ADD COLUMN IF NOT EXISTS pricing jsonb;
ALTER TABLE bookings
    ADD COLUMN IF NOT EXISTS ticket_types text[],
    ADD COLUMN IF NOT EXISTS price_lines jsonb,
    ADD COLUMN IF NOT EXISTS promo_code text;
