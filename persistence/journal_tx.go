package persistence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// write commits one batch and calls every done: first all commits in one
// transaction; if that fails because of a statement (not the connection),
// isolate finds the guilty commits by bisection, so only they fail. Each
// commit is acknowledged as soon as its fate is known.
func (w *JournalWriter) write(batch []pending) {
	start := time.Now()
	var endTrace func()
	w.traceCtx, endTrace = w.traceBatch(batch)
	defer endTrace()
	o := &outcome{w: w, batch: batch, results: make([]error, len(batch)), acked: make([]bool, len(batch))}
	live := make([]int, 0, len(batch))
	for i := range batch {
		if err := validateCommit(&batch[i].c); err != nil {
			o.ack(i, err)
		} else {
			live = append(live, i)
		}
	}
	if len(live) > 0 {
		switch err := w.attempt(batch, live, o.results); {
		case err == nil:
			o.ackAll(live, nil)
		case isConnError(err):
			o.ackAll(live, unavailable("journal: commit batch", err))
		default:
			w.isolate(o, live)
		}
	}
	w.finish(o, time.Since(start))
}

// outcome tracks a batch's acknowledgements and counts them in the stats
// as they happen.
type outcome struct {
	w                *JournalWriter
	batch            []pending
	results          []error
	acked            []bool
	commits, records int
}

// ack settles commit i with err, unless a fenced result was already found
// for it (fencing does not change on retry), and calls its done at once.
func (o *outcome) ack(i int, err error) {
	if o.acked[i] {
		return
	}
	o.acked[i] = true
	if o.results[i] == nil {
		o.results[i] = err
	}
	s := &o.w.stats
	switch err := o.results[i]; {
	case err == nil:
		o.commits++
		o.records += len(o.batch[i].c.Entries)
		s.commits.Add(1)
		s.records.Add(uint64(len(o.batch[i].c.Entries)))
	case errors.Is(err, boxoffice.ErrFenced):
		s.fenced.Add(1)
	default:
		s.failed.Add(1)
	}
	o.batch[i].done(o.results[i])
}

// ackAll settles every commit of idx with err (nil: written, or fenced).
func (o *outcome) ackAll(idx []int, err error) {
	for _, i := range idx {
		o.ack(i, err)
	}
}

// attempt writes the commits idx of batch in one transaction under its own
// deadline, setting results[i] for commits found fenced. On success every
// other commit of idx is durable; on failure nothing of idx is written.
func (w *JournalWriter) attempt(batch []pending, idx []int, results []error) error {
	base := w.traceCtx
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithTimeout(base, w.cfg.Timeout)
	defer cancel()
	w.stats.txs.Add(1)
	err := errEpochMoved
	if !w.useCopy {
		err = w.writeBatchFast(ctx, batch, idx)
	}
	if errors.Is(err, errEpochMoved) {
		// Someone's epoch moved: find out whose, precisely, the slow way.
		w.stats.txs.Add(1)
		err = w.writeBatch(ctx, batch, idx, results)
	}
	return err
}

// isolate handles a batch whose transaction failed because of a statement
// (a second sale of a seat, a version already written): nothing of it
// committed. It bisects: each half of the batch is retried as one
// transaction with its own deadline, halves that commit are acknowledged
// at once, and halves that fail are split again, breadth first, so the
// innocent commits of a large batch are acknowledged after a few
// transactions and one bad commit of n costs about 2*log2(n) transactions
// instead of n transactions under one deadline. The commits of one event
// stay together and in order: a later commit of an event must not be
// written without an earlier one (I5).
func (w *JournalWriter) isolate(o *outcome, live []int) {
	var groups [][]int // indexes into batch, by event, in submission order
	at := map[uuid.UUID]int{}
	for _, i := range live {
		id := o.batch[i].c.EventID
		g, ok := at[id]
		if !ok {
			g = len(groups)
			at[id] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	var down error         // a lost connection or deadline: the rest fail as unavailable, untried
	parts := split(groups) // the whole batch failed already
	for len(parts) > 0 {
		part := parts[0]
		parts = parts[1:]
		if len(part) == 1 {
			down = w.writeGroup(o, part[0], down)
			continue
		}
		var idx []int
		for _, g := range part {
			for _, i := range g {
				if o.results[i] != nil {
					o.ack(i, nil) // fenced, found by an earlier attempt
				} else {
					idx = append(idx, i)
				}
			}
		}
		if len(idx) == 0 {
			continue
		}
		if down == nil {
			err := w.attempt(o.batch, idx, o.results)
			if err == nil {
				o.ackAll(idx, nil)
				continue
			}
			if isConnError(err) {
				down = err
			}
		}
		if down != nil {
			o.ackAll(idx, unavailable("journal: commit batch", down))
			continue
		}
		parts = append(parts, split(part)...)
	}
}

// split halves a list of event groups; a single group is returned as is.
func split(groups [][]int) [][][]int {
	if len(groups) == 1 {
		return [][][]int{groups}
	}
	half := len(groups) / 2
	return [][][]int{groups[:half], groups[half:]}
}

// writeGroup writes one event's commits of a failed batch one at a time, in
// order; after the first failure the later ones fail too, unwritten. It
// returns down, or the connection error that took the database away.
func (w *JournalWriter) writeGroup(o *outcome, g []int, down error) error {
	var failed error
	for _, i := range g {
		c := &o.batch[i].c
		switch {
		case o.acked[i]:
		case o.results[i] != nil:
			o.ack(i, nil) // fenced
		case down != nil:
			o.ack(i, unavailable("journal: commit", down))
		case failed != nil:
			o.ack(i, fmt.Errorf("persistence: journal: commit of event %s not written: an earlier commit of the event failed: %v",
				c.EventID, failed))
		default:
			err := w.attempt(o.batch, []int{i}, o.results)
			if isConnError(err) {
				down = err
			}
			if err != nil && o.results[i] == nil {
				failed = err
			}
			o.ack(i, classifyCommitErr(c, err))
		}
	}
	return down
}

// finish updates the batch's stats after every commit is acknowledged.
func (w *JournalWriter) finish(o *outcome, d time.Duration) {
	s := &w.stats
	s.batches.Add(1)
	s.lastRecords.Store(int64(o.records))
	s.lastCommits.Store(int64(o.commits))
	s.lastDur.Store(int64(d))
	s.totalDur.Add(int64(d))
	if w.cfg.OnBatch != nil {
		w.cfg.OnBatch(o.records, d)
	}
}

// errEpochMoved reports that the fast path's epoch guard failed: at least
// one commit of the batch is fenced, and nothing was written.
var errEpochMoved = errors.New("persistence: an event's epoch moved")

// writeBatchFast writes the live commits in ONE round trip: a pgx batch
// is a single pipeline ending in one Sync, which PostgreSQL runs as one
// implicit transaction. Its first statement locks the events' ownership
// rows FOR SHARE (a takeover waits for us, as in writeBatch) and fails the
// whole transaction by dividing by zero unless every commit's epoch is
// current; the common case, nobody fenced, thus costs one round trip
// instead of four (BEGIN, epoch check, rows, COMMIT).
func (w *JournalWriter) writeBatchFast(ctx context.Context, batch []pending, live []int) error {
	commits := make([]*boxoffice.Commit, 0, len(live))
	epochOf := make(map[uuid.UUID]int64, len(live))
	for _, i := range live {
		c := &batch[i].c
		if e, ok := epochOf[c.EventID]; ok && e != c.Epoch {
			return errEpochMoved // two epochs of one event in a batch: one is stale
		}
		epochOf[c.EventID] = c.Epoch
		commits = append(commits, c)
	}
	ids, epochs := make([]pgtype.UUID, 0, len(epochOf)), make([]int64, 0, len(epochOf))
	for id, e := range epochOf {
		ids, epochs = append(ids, pgUUID(id)), append(epochs, e)
	}
	b := &pgx.Batch{}
	b.Queue(`WITH locked AS (
			SELECT event_id, epoch FROM event_ownership WHERE event_id = ANY($1::uuid[]) FOR SHARE)
		SELECT 1 / (SELECT CASE WHEN count(*) = $3 THEN 1 ELSE 0 END
			FROM locked l JOIN unnest($1::uuid[], $2::bigint[]) AS u(event_id, epoch)
			ON l.event_id = u.event_id AND l.epoch = u.epoch)`, ids, epochs, len(ids))
	w.queueRows(b, commits)
	conn, err := w.db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	err = conn.SendBatch(ctx, b).Close()
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "22012" { // division_by_zero: the guard
		return errEpochMoved
	}
	return err
}

// writeBatch writes the live commits of batch in one transaction, setting
// results[i] to a fenced error for each commit whose epoch is stale.
func (w *JournalWriter) writeBatch(ctx context.Context, batch []pending, live []int, results []error) error {
	tx, err := w.db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	epochs, err := lockEpochs(ctx, tx, batch, live)
	if err != nil {
		return err
	}
	commits := make([]*boxoffice.Commit, 0, len(live))
	for _, i := range live {
		c := &batch[i].c
		current, ok := epochs[c.EventID]
		if !ok || current != c.Epoch {
			results[i] = fenced(c, current, ok)
			continue
		}
		commits = append(commits, c)
	}
	if len(commits) > 0 {
		if err := w.writeRows(ctx, tx, commits); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// lockEpochs reads the current epoch of every event in the batch and
// locks their ownership rows FOR SHARE until the transaction ends: a
// takeover (Acquire's UPDATE) waits for this batch, and a takeover that
// committed before is seen here.
func lockEpochs(ctx context.Context, tx pgx.Tx, batch []pending, live []int) (map[uuid.UUID]int64, error) {
	ids := make([]uuid.UUID, 0, len(live))
	seen := make(map[uuid.UUID]bool, len(live))
	for _, i := range live {
		if id := batch[i].c.EventID; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	rows, err := tx.Query(ctx, `SELECT event_id, epoch FROM event_ownership WHERE event_id = ANY($1) FOR SHARE`, ids)
	if err != nil {
		return nil, err
	}
	epochs := make(map[uuid.UUID]int64, len(ids))
	var id uuid.UUID
	var epoch int64
	_, err = pgx.ForEachRow(rows, []any{&id, &epoch}, func() error {
		epochs[id] = epoch
		return nil
	})
	return epochs, err
}

func fenced(c *boxoffice.Commit, current int64, owned bool) error {
	if !owned {
		return fmt.Errorf("persistence: event %s has no owner, commit epoch %d: %w", c.EventID, c.Epoch, boxoffice.ErrFenced)
	}
	return fmt.Errorf("persistence: event %s commit epoch %d is stale (current %d): %w", c.EventID, c.Epoch, current, boxoffice.ErrFenced)
}

func classifyCommitErr(c *boxoffice.Commit, err error) error {
	var be *boxoffice.Error
	var pe *pgconn.PgError
	switch {
	case err == nil || errors.As(err, &be): // nil, or already boxoffice.ErrFenced / unavailable
		return err
	case isConnError(err):
		return unavailable("journal: commit", err)
	case errors.As(err, &pe) && pe.Code == codeUniqueViolation && pe.ConstraintName == "sold_seats_pkey":
		return fmt.Errorf("persistence: event %s: %w (%s): %w", c.EventID, boxoffice.ErrSeatSold, pe.Detail, err)
	case errors.As(err, &pe) && pe.Code == codeUniqueViolation && pe.ConstraintName == "journal_pkey":
		return fmt.Errorf("persistence: event %s: a version of this commit is already in the journal: %w", c.EventID, err)
	}
	return fmt.Errorf("persistence: journal: commit of event %s: %w", c.EventID, err)
}

// writeRows writes the commits' journal rows, booking upserts and sales
// inside tx. Each kind is one statement over arrays (unnest), pipelined in
// one round trip; with useCopy the journal rows go by COPY instead.
func (w *JournalWriter) writeRows(ctx context.Context, tx pgx.Tx, commits []*boxoffice.Commit) error {
	b := &pgx.Batch{}
	if w.useCopy {
		if err := copyJournal(ctx, tx, journalColumns(commits)); err != nil {
			return err
		}
		queueBookings(b, commits)
		queueRefunds(b, commits)
		queueSales(b, commits)
		queueNotices(b, commits)
	} else {
		w.queueRows(b, commits)
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// queueRows queues the commits' journal rows, booking upserts, sales and
// notices.
func (w *JournalWriter) queueRows(b *pgx.Batch, commits []*boxoffice.Commit) {
	if j := journalColumns(commits); len(j.events) > 0 {
		b.Queue(`INSERT INTO journal (event_id, first_version, last_version, epoch, records)
			SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bytea[])`,
			j.events, j.firsts, j.lasts, j.epochs, j.records)
	}
	queueBookings(b, commits)
	queueRefunds(b, commits)
	queueSales(b, commits)
	queueNotices(b, commits)
}

// queueRefunds ends the refunded bookings' sales (their sold_seats rows go,
// so the seats can be sold again: I1 is "no seat has two live sales") and
// marks their refunds done. Queued before queueSales: a seat refunded and
// sold again in one batch is deleted first, then inserted.
func queueRefunds(b *pgx.Batch, commits []*boxoffice.Commit) {
	var ids []pgtype.UUID
	for _, c := range commits {
		for _, id := range c.Refunds {
			ids = append(ids, pgUUID(id))
		}
	}
	if len(ids) == 0 {
		return
	}
	b.Queue(`DELETE FROM sold_seats WHERE booking_id = ANY($1::uuid[])`, ids)
	b.Queue(`UPDATE refunds SET refunded_at = now() WHERE booking_id = ANY($1::uuid[]) AND refunded_at IS NULL`, ids)
}

// journalCols are the journal rows of a transaction, column by column.
type journalCols struct {
	events        []pgtype.UUID
	firsts, lasts []int64
	epochs        []int64
	records       [][]byte
}

// journalColumns builds one journal row per event of the transaction: an
// event's commits in one batch follow each other in version order under
// one epoch, so they go into one row (fewer rows is the point of the
// format); a commit that does not continue its event's row (which the
// writer never produces) starts a row of its own and the primary key or
// `boxoffice check` finds the fault.
func journalColumns(commits []*boxoffice.Commit) journalCols {
	var j journalCols
	row := map[uuid.UUID]int{}
	for _, c := range commits {
		if len(c.Entries) == 0 {
			continue
		}
		first, last := int64(c.Entries[0].Version), int64(c.Entries[len(c.Entries)-1].Version)
		if i, ok := row[c.EventID]; ok && j.lasts[i]+1 == first && j.epochs[i] == c.Epoch {
			j.lasts[i] = last
			j.records[i] = appendRecords(j.records[i], c.Entries)
			continue
		}
		row[c.EventID] = len(j.events)
		j.events = append(j.events, pgUUID(c.EventID))
		j.firsts = append(j.firsts, first)
		j.lasts = append(j.lasts, last)
		j.epochs = append(j.epochs, c.Epoch)
		j.records = append(j.records, appendRecords(make([]byte, 0, recordsLen(c.Entries)), c.Entries))
	}
	return j
}

func copyJournal(ctx context.Context, tx pgx.Tx, j journalCols) error {
	if len(j.events) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"journal"}, []string{"event_id", "first_version", "last_version", "epoch", "records"},
		pgx.CopyFromSlice(len(j.events), func(i int) ([]any, error) {
			return []any{j.events[i], j.firsts[i], j.lasts[i], j.epochs[i], j.records[i]}, nil
		}))
	return err
}

// queueBookings upserts the commits' bookings. A booking that appears
// more than once (held, then confirmed in the same batch) is written once,
// as its last state: one statement cannot update a row twice. Each row
// keeps the last version of the commit that wrote it, so the write-behind
// projection (projection.go) never turns it back.
func queueBookings(b *pgx.Batch, commits []*boxoffice.Commit) {
	last := map[uuid.UUID]int{}
	var rows []boxoffice.ProjectedBooking
	for _, c := range commits {
		var version uint64
		if n := len(c.Entries); n > 0 {
			version = c.Entries[n-1].Version
		}
		for i := range c.Bookings {
			row := boxoffice.ProjectedBooking{Booking: c.Bookings[i], Version: version}
			if j, ok := last[row.ID]; ok {
				rows[j] = row
				continue
			}
			last[row.ID] = len(rows)
			rows = append(rows, row)
		}
	}
	queueBookingRows(b, rows, "")
}

// queueBookingRows upserts rows (distinct IDs) in one statement; an
// existing row is updated only where guard (a condition on bookings and
// EXCLUDED, "" for always) holds.
func queueBookingRows(b *pgx.Batch, rows []boxoffice.ProjectedBooking, guard string) {
	n := len(rows)
	if n == 0 {
		return
	}
	var (
		ids, users, events            = make([]pgtype.UUID, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n)
		tickets, statuses, currencies = make([]string, n), make([]string, n), make([]string, n)
		totals, versions              = make([]int64, n), make([]int64, n)
		// Pricing (h19price): NULL for an unpriced booking.
		types, lines, promos                = make([]*string, n), make([]*string, n), make([]*string, n)
		created, expires, confirmed, update = make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
	)
	for i := range rows {
		bk := &rows[i]
		ids[i], users[i], events[i] = pgUUID(bk.ID), pgUUID(bk.UserID), pgUUID(bk.EventID)
		tickets[i], statuses[i], currencies[i] = uuidArrayLiteral(bk.TicketIDs), string(bk.Status), bk.Currency
		totals[i], versions[i] = int64(bk.Total), int64(bk.Version)
		created[i], expires[i], confirmed[i], update[i] = pgTime(bk.CreatedAt), pgTime(bk.ExpiresAt), pgTime(bk.ConfirmedAt), pgTime(bk.UpdatedAt)
		types[i], lines[i], promos[i] = pricingColumns(&bk.Booking)
	}
	if guard != "" {
		guard = " WHERE " + guard
	}
	b.Queue(`
		INSERT INTO bookings (id, user_id, event_id, ticket_ids, status, total_minor, currency,
			created_at, expires_at, confirmed_at, updated_at, version,
			ticket_types, price_lines, promo_code)
		SELECT id, user_id, event_id, ticket_ids::uuid[], status, total_minor, currency,
			coalesce(created_at, now()), expires_at, confirmed_at, coalesce(updated_at, now()), nullif(version, 0),
			ticket_types::text[], price_lines::jsonb, promo_code
		FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::bigint[], $7::text[],
			$8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::bigint[],
			$13::text[], $14::text[], $15::text[])
			AS t(id, user_id, event_id, ticket_ids, status, total_minor, currency,
				created_at, expires_at, confirmed_at, updated_at, version,
				ticket_types, price_lines, promo_code)
		ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, confirmed_at = EXCLUDED.confirmed_at,
			updated_at = EXCLUDED.updated_at, expires_at = coalesce(EXCLUDED.expires_at, bookings.expires_at),
			version = greatest(EXCLUDED.version, bookings.version)`+guard,
		ids, users, events, tickets, statuses, totals, currencies, created, expires, confirmed, update, versions,
		types, lines, promos)
}

// uuidArrayLiteral renders ids as a PostgreSQL array literal, so that a
// ragged list of arrays fits in one text[] parameter.
func uuidArrayLiteral(ids []uuid.UUID) string {
	var sb strings.Builder
	sb.Grow(2 + 37*len(ids))
	sb.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(id.String())
	}
	sb.WriteByte('}')
	return sb.String()
}

func queueSales(b *pgx.Batch, commits []*boxoffice.Commit) {
	var events, tickets, bookings []pgtype.UUID
	for _, c := range commits {
		for _, s := range c.Sales {
			for _, t := range s.TicketIDs {
				events = append(events, pgUUID(c.EventID))
				tickets = append(tickets, pgUUID(t))
				bookings = append(bookings, pgUUID(s.BookingID))
			}
		}
	}
	if len(tickets) == 0 {
		return
	}
	b.Queue(`INSERT INTO sold_seats (event_id, ticket_id, booking_id)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[])`, events, tickets, bookings)
}

// arrayEscaper escapes a text for a double-quoted element of a
// PostgreSQL array literal.
var arrayEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// pricingColumns renders a booking's ticket types (an array literal),
// price lines (JSON) and promo code for the bookings row; each is nil
// (NULL) when the booking has none, so an unpriced hold writes nothing
// more (h19price).
func pricingColumns(b *boxoffice.Booking) (types, lines, promo *string) {
	if b.TicketTypes != nil {
		var sb strings.Builder
		sb.WriteByte('{')
		for i, t := range b.TicketTypes {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('"')
			sb.WriteString(arrayEscaper.Replace(t))
			sb.WriteByte('"')
		}
		sb.WriteByte('}')
		s := sb.String()
		types = &s
	}
	if b.PriceLines != nil {
		j, _ := json.Marshal(b.PriceLines)
		s := string(j)
		lines = &s
	}
	if b.PromoCode != "" {
		promo = &b.PromoCode
	}
	return types, lines, promo
}
