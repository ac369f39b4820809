-- Notices (booking.confirmed, booking.refunded, event.cancelled,
-- event.sold_out) travel through the outbox; these tables are their
-- consumers' side.

-- Which notices a sink has handled, by outbox row id: JetStream delivers at
-- least once, so a redelivered notice is dropped here (e-mail).
CREATE TABLE notice_done (
    sink       text NOT NULL,
    notice_id  bigint NOT NULL,
    done_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sink, notice_id)
);

-- Organisers' webhook endpoints; secret is the Standard Webhooks signing
-- secret (whsec_...), shown once at creation.
CREATE TABLE webhooks (
    id          uuid PRIMARY KEY,
    url         text NOT NULL,
    events      text[] NOT NULL,
    secret      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One notice for one webhook: the body as signed, retried with backoff
-- until a 2xx. The primary key makes the fan-out idempotent.
CREATE TABLE webhook_deliveries (
    webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    notice_id        bigint NOT NULL,
    body             bytea NOT NULL,
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    last_error       text NOT NULL DEFAULT '',
    last_error_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (webhook_id, notice_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
