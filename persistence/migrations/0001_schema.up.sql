-- boxoffice schema, version 1. Money is in minor units (bigint), times are
-- timestamptz, IDs are UUIDs chosen by the application.

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    email       text UNIQUE,               -- NULL when the token carries none
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Catalog. body_hash is SHA-256 of the creation request, so that a retried
-- creation with the same client-chosen ID is recognised as the same one.
CREATE TABLE venues (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    city        text NOT NULL,
    address     text NOT NULL DEFAULT '',
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    seat_map    jsonb NOT NULL,
    capacity    integer NOT NULL CHECK (capacity > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    body_hash   bytea NOT NULL
);

CREATE TABLE performers (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    biography   text NOT NULL DEFAULT '',
    body_hash   bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    id                    uuid PRIMARY KEY,
    name                  text NOT NULL,
    type                  text NOT NULL,
    description           text NOT NULL DEFAULT '',
    starts_at             timestamptz NOT NULL,
    venue_id              uuid NOT NULL REFERENCES venues (id),
    performer_id          uuid NOT NULL REFERENCES performers (id),
    currency              text NOT NULL,
    prices                jsonb NOT NULL,      -- section name -> price in minor units
    waiting_room_enabled  boolean NOT NULL DEFAULT false,
    waiting_room_rate     integer NOT NULL DEFAULT 0,
    revision              bigint NOT NULL DEFAULT 1,  -- boxoffice.Listing.Revision; bumped on every change
    body_hash             bytea NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_venue_id ON events (venue_id);
CREATE INDEX events_performer_id ON events (performer_id);

-- One row per seat of the event's venue; idx is the seat's flat index and
-- ticket_id is derived from (event, idx) (see boxoffice.TicketSpace).
CREATE TABLE tickets (
    event_id     uuid NOT NULL,
    idx          integer NOT NULL,
    ticket_id    uuid NOT NULL UNIQUE,
    section      text NOT NULL,
    "row"        text NOT NULL,
    seat         integer NOT NULL,
    price_minor  bigint NOT NULL,
    currency     text NOT NULL,
    PRIMARY KEY (event_id, idx)
);

-- Booking write path. Rows are written by the journal writer in the same
-- transaction as the journal records that decided them.
CREATE TABLE bookings (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL,
    event_id      uuid NOT NULL,
    ticket_ids    uuid[] NOT NULL,
    status        text NOT NULL,
    total_minor   bigint NOT NULL,
    currency      text NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz,
    confirmed_at  timestamptz,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX bookings_user_created ON bookings (user_id, created_at DESC);

-- The event journal: one row per record, versions consecutive per event.
CREATE TABLE journal (
    event_id  uuid NOT NULL,
    version   bigint NOT NULL,
    epoch     bigint NOT NULL,
    record    bytea NOT NULL,
    PRIMARY KEY (event_id, version)
);

CREATE TABLE snapshots (
    event_id    uuid NOT NULL,
    version     bigint NOT NULL,
    epoch       bigint NOT NULL,
    state       bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, version)
);

-- Fencing: every journal transaction locks its events' rows FOR SHARE and
-- checks the epoch; a takeover bumps the epoch with an UPDATE that waits for
-- those transactions and makes every later one of the old owner fail.
CREATE TABLE event_ownership (
    event_id     uuid PRIMARY KEY,
    epoch        bigint NOT NULL,
    node         text NOT NULL,
    acquired_at  timestamptz NOT NULL DEFAULT now()
);

-- The last line of defence of I1: a seat can be sold once.
CREATE TABLE sold_seats (
    event_id    uuid NOT NULL,
    ticket_id   uuid NOT NULL,
    booking_id  uuid NOT NULL,
    sold_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, ticket_id)
);

-- At most one charge per booking (I6): the row exists before the provider
-- is called and is finished after.
CREATE TABLE payments (
    booking_id       uuid PRIMARY KEY,
    idempotency_key  text NOT NULL,
    amount_minor     bigint NOT NULL,
    currency         text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'declined')),
    charge_id        text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox of catalog changes, relayed to the bus.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
