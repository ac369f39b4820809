package persistence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// AddNotices writes notices to the outbox through q, which should be the
// transaction of the change that causes them (a refund, an event's
// cancellation), so that they are sent exactly when that change commits.
// The relay publishes them to the notice stream, where the e-mail and
// webhook workers pick them up. Commits of the journal carry their notices
// in boxoffice.Commit.Notices instead. Errors: invalid_argument for a
// notice that fails Validate (nothing is written).
func AddNotices(ctx context.Context, q Execer, notices ...boxoffice.Notice) error {
	topics, payloads, err := noticeRows(notices)
	if err != nil || len(topics) == 0 {
		return err
	}
	_, err = q.Exec(ctx, insertNotices, topics, payloads)
	return wrap("outbox: insert notices", err)
}

// Execer is what AddNotices writes through: a pgx.Tx (the usual case), a
// pool or a connection.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const insertNotices = `INSERT INTO outbox (topic, payload) SELECT * FROM unnest($1::text[], $2::jsonb[])`

func noticeRows(notices []boxoffice.Notice) (topics []string, payloads [][]byte, err error) {
	for _, n := range notices {
		if err := n.Validate(); err != nil {
			return nil, nil, err
		}
		p, err := json.Marshal(n)
		if err != nil {
			return nil, nil, fmt.Errorf("persistence: encode notice: %w", err)
		}
		topics, payloads = append(topics, n.Type), append(payloads, p)
	}
	return topics, payloads, nil
}

// queueNotices queues the commits' notices into the outbox of the batch's
// transaction. They were validated with the commit.
func queueNotices(b *pgx.Batch, commits []*boxoffice.Commit) {
	var all []boxoffice.Notice
	for _, c := range commits {
		all = append(all, c.Notices...)
	}
	topics, payloads, err := noticeRows(all)
	if err != nil || len(topics) == 0 {
		return
	}
	b.Queue(insertNotices, topics, payloads)
}

// NoticeDone reports whether sink already handled notice id.
func (db *DB) NoticeDone(ctx context.Context, sink string, id int64) (bool, error) {
	var done bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notice_done WHERE sink = $1 AND notice_id = $2)`, sink, id).Scan(&done)
	return done, wrap("notice done: read", err)
}

// MarkNoticeDone records that sink handled notice id; marking twice is no
// error (a redelivery that raced the first).
func (db *DB) MarkNoticeDone(ctx context.Context, sink string, id int64) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO notice_done (sink, notice_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, sink, id)
	return wrap("notice done: mark", err)
}

// User reads a user as its last token described it. Errors: not_found.
func (db *DB) User(ctx context.Context, id uuid.UUID) (boxoffice.User, error) {
	u := boxoffice.User{ID: id}
	var email *string
	err := db.pool.QueryRow(ctx, `SELECT email, name FROM users WHERE id = $1`, id).Scan(&email, &u.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return boxoffice.User{}, notFound("user", id)
	}
	if err != nil {
		return boxoffice.User{}, wrap("read user", err)
	}
	if email != nil {
		u.Email = *email
	}
	return u, nil
}

// CreateWebhook implements boxoffice.WebhookStore.
func (db *DB) CreateWebhook(ctx context.Context, w boxoffice.Webhook) (boxoffice.Webhook, error) {
	if err := ensureOrg(ctx, db.pool, w.OrgID); err != nil {
		return boxoffice.Webhook{}, err
	}
	err := db.pool.QueryRow(ctx, `INSERT INTO webhooks (id, url, events, secret, org_id) VALUES ($1, $2, $3, $4, $5) RETURNING created_at`,
		w.ID, w.URL, w.Events, w.Secret, nullID(w.OrgID)).Scan(&w.CreatedAt)
	if err != nil {
		return boxoffice.Webhook{}, wrap("create webhook", err)
	}
	return w, nil
}

// Webhooks implements boxoffice.WebhookStore.
func (db *DB) Webhooks(ctx context.Context) ([]boxoffice.WebhookStatus, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT w.id, w.url, w.events, w.secret, w.created_at, w.org_id,
			count(d.notice_id) FILTER (WHERE d.delivered_at IS NULL),
			count(d.notice_id) FILTER (WHERE d.delivered_at IS NOT NULL),
			coalesce(sum(d.attempts) FILTER (WHERE d.delivered_at IS NULL), 0),
			coalesce((SELECT last_error FROM webhook_deliveries e WHERE e.webhook_id = w.id AND e.last_error_at IS NOT NULL
				ORDER BY e.last_error_at DESC LIMIT 1), ''),
			max(d.last_error_at)
		FROM webhooks w LEFT JOIN webhook_deliveries d ON d.webhook_id = w.id
		GROUP BY w.id ORDER BY w.created_at, w.id`)
	if err != nil {
		return nil, wrap("read webhooks", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (boxoffice.WebhookStatus, error) {
		var s boxoffice.WebhookStatus
		var at *time.Time
		err := r.Scan(&s.ID, &s.URL, &s.Events, &s.Secret, &s.CreatedAt, (*orgID)(&s.OrgID), &s.Pending, &s.Delivered, &s.Attempts, &s.LastError, &at)
		if at != nil {
			s.LastErrorAt = *at
		}
		return s, err
	})
	return out, wrap("read webhooks", err)
}

// EnqueueWebhooks queues notice id (of type typ, body as it will be signed)
// for every webhook subscribed to typ, once: a redelivered notice adds
// nothing. An organisation's webhook gets only the notices of its own
// organisation's events (the event_id in the body's data); an admin's
// (no organisation) gets every notice. It returns how many deliveries were
// added.
func (db *DB) EnqueueWebhooks(ctx context.Context, id int64, typ string, body []byte) (int, error) {
	tag, err := db.pool.Exec(ctx, `
		INSERT INTO webhook_deliveries (webhook_id, notice_id, body)
		SELECT w.id, $1, $3 FROM webhooks w WHERE $2 = ANY (w.events)
			AND (w.org_id IS NULL OR w.org_id = (SELECT e.org_id FROM events e
				WHERE e.id = (convert_from($3, 'UTF8')::jsonb #>> '{data,event_id}')::uuid))
		ON CONFLICT DO NOTHING`, id, typ, body)
	if err != nil {
		return 0, wrap("enqueue webhooks", err)
	}
	return int(tag.RowsAffected()), nil
}

// ClaimWebhookDeliveries takes up to limit deliveries that are due and
// leases them for lease: their next attempt moves past the lease, so
// another node (or this one after a crash) takes them again only if this
// attempt never reports. Nodes claim disjoint rows (SKIP LOCKED).
func (db *DB) ClaimWebhookDeliveries(ctx context.Context, limit int, lease time.Duration) ([]boxoffice.WebhookDelivery, error) {
	rows, err := db.pool.Query(ctx, `
		WITH due AS (
			SELECT webhook_id, notice_id FROM webhook_deliveries
			WHERE delivered_at IS NULL AND next_attempt_at <= now()
			ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
		UPDATE webhook_deliveries d SET next_attempt_at = now() + $2::interval
		FROM due, webhooks w
		WHERE d.webhook_id = due.webhook_id AND d.notice_id = due.notice_id AND w.id = d.webhook_id
		RETURNING d.webhook_id, w.url, w.secret, d.notice_id, d.body, d.attempts, w.org_id`, limit, lease)
	if err != nil {
		return nil, wrap("claim webhook deliveries", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (boxoffice.WebhookDelivery, error) {
		var d boxoffice.WebhookDelivery
		var notice int64
		err := r.Scan(&d.WebhookID, &d.URL, &d.Secret, &notice, &d.Body, &d.Attempts, (*orgID)(&d.OrgID))
		d.MessageID = WebhookMessageID(notice)
		return d, err
	})
	return out, wrap("claim webhook deliveries", err)
}

// WebhookMessageID is the Standard Webhooks message id of notice id.
func WebhookMessageID(id int64) string { return fmt.Sprintf("msg_%d", id) }

// FinishWebhookDelivery records one attempt of a delivery: failed == ""
// means a 2xx (delivered); otherwise the error is kept for the dashboard
// and the next attempt is due after retry.
func (db *DB) FinishWebhookDelivery(ctx context.Context, d boxoffice.WebhookDelivery, failed string, retry time.Duration) error {
	var notice int64
	if _, err := fmt.Sscanf(d.MessageID, "msg_%d", &notice); err != nil {
		return fmt.Errorf("persistence: webhook message id %q: %w", d.MessageID, err)
	}
	var err error
	if failed == "" {
		_, err = db.pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at = now()
			WHERE webhook_id = $1 AND notice_id = $2`, d.WebhookID, notice)
	} else {
		_, err = db.pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $3,
			last_error_at = now(), next_attempt_at = now() + $4::interval
			WHERE webhook_id = $1 AND notice_id = $2 AND delivered_at IS NULL`, d.WebhookID, notice, failed, retry)
	}
	return wrap("finish webhook delivery", err)
}

// EventBuyers lists the users with a confirmed or refunded booking of an
// event (the people its cancellation mail goes to), each once.
func (db *DB) EventBuyers(ctx context.Context, eventID uuid.UUID) ([]boxoffice.User, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT DISTINCT u.id, coalesce(u.email, ''), u.name FROM bookings b JOIN users u ON u.id = b.user_id
		WHERE b.event_id = $1 AND b.status IN ('confirmed', 'refunded') ORDER BY u.id`, eventID)
	if err != nil {
		return nil, wrap("read event buyers", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (boxoffice.User, error) {
		var u boxoffice.User
		err := r.Scan(&u.ID, &u.Email, &u.Name)
		return u, err
	})
	return out, wrap("read event buyers", err)
}

// PruneNotices deletes up to limit rows of each kind the notice path no
// longer needs: outbox rows (catalog changes and notices) published before
// sentBefore, and notice_done marks and delivered webhook deliveries older
// than doneBefore, which must be older than anything JetStream may still
// redeliver (the notice stream keeps a week). Unsent rows and pending
// deliveries are never touched. It returns how many rows went.
func (db *DB) PruneNotices(ctx context.Context, sentBefore, doneBefore time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, boxoffice.InvalidField("limit", "limit must be positive")
	}
	var total int64
	for _, q := range []struct {
		sql    string
		before time.Time
	}{
		{`DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_at < $1 ORDER BY id LIMIT $2)`, sentBefore},
		{`DELETE FROM notice_done WHERE (sink, notice_id) IN (SELECT sink, notice_id FROM notice_done WHERE done_at < $1 LIMIT $2)`, doneBefore},
		{`DELETE FROM webhook_deliveries WHERE (webhook_id, notice_id) IN (SELECT webhook_id, notice_id FROM webhook_deliveries
			WHERE delivered_at < $1 LIMIT $2)`, doneBefore},
	} {
		tag, err := db.pool.Exec(ctx, q.sql, q.before, limit)
		if err != nil {
			return total, wrap("prune notices", err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}
