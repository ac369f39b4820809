DROP TABLE IF EXISTS outbox, payments, sold_seats, event_ownership, snapshots,
    journal, bookings, tickets, events, performers, venues, users;
