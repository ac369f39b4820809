package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// violation is one broken invariant that check found.
type violation struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// cmdCheck audits a loadgen history against PostgreSQL's final state and
// reports every double sale, lost acknowledgement, version gap and late
// expiry. It exits non-zero when it finds any.
func cmdCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var history string
	url, err := dbFlags("check", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&history, "history", "", "the JSON-lines history written by `boxoffice loadgen -history`")
	})
	if err != nil {
		return err
	}
	samples, err := readHistory(history)
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	vs, err := check(ctx, pool, samples)
	if err != nil {
		return err
	}
	for _, v := range vs {
		fmt.Fprintf(stdout, "VIOLATION %s: %s\n", v.Kind, v.Detail)
	}
	fmt.Fprintf(stdout, "checked %d replies: %d violation(s)\n", len(samples), len(vs))
	if len(vs) > 0 {
		return fmt.Errorf("%d invariant violation(s)", len(vs))
	}
	return nil
}

func readHistory(path string) ([]sample, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("history line %d: %w", len(out)+1, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// check runs every audit; each query names the invariant it guards.
func check(ctx context.Context, db *pgxpool.Pool, samples []sample) ([]violation, error) {
	var vs []violation
	add := func(kind, format string, args ...any) { vs = append(vs, violation{kind, fmt.Sprintf(format, args...)}) }

	// I2: every acknowledged hold (201) and sale (200) is in PostgreSQL.
	for _, s := range samples {
		if s.BookingID == "" || !(s.Op == "reserve" && s.Status == 201 || s.Op == "confirm" && s.Status == 200) {
			continue
		}
		id, err := uuid.Parse(s.BookingID)
		if err != nil {
			add("bad_history", "booking id %q", s.BookingID)
			continue
		}
		var status string
		err = db.QueryRow(ctx, `SELECT status FROM bookings WHERE id = $1`, id).Scan(&status)
		switch {
		case err != nil:
			add("lost_ack", "%s of booking %s was acknowledged at %s but the booking is not in PostgreSQL", s.Op, id, s.At.Format(time.RFC3339Nano))
		case s.Op == "confirm" && status != "confirmed":
			add("lost_ack", "sale of booking %s was acknowledged but the booking is %s", id, status)
		}
	}
	// I1: no ticket in two live bookings, and every confirmed seat in sold_seats.
	rows, err := db.Query(ctx, `SELECT event_id, t, count(*) FROM bookings, unnest(ticket_ids) t
		WHERE status IN ('in-progress', 'confirmed') GROUP BY event_id, t HAVING count(*) > 1`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var ev, t uuid.UUID
		var n int
		if err := rows.Scan(&ev, &t, &n); err != nil {
			return nil, err
		}
		add("double_booking", "event %s ticket %s is in %d live bookings", ev, t, n)
	}
	rows.Close()
	// I5: journal versions have no gaps.
	rows, err = db.Query(ctx, `SELECT event_id, count(*), max(version) FROM journal GROUP BY event_id HAVING count(*) <> max(version)`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var ev uuid.UUID
		var n, maxV int64
		if err := rows.Scan(&ev, &n, &maxV); err != nil {
			return nil, err
		}
		add("version_gap", "event %s has %d journal records up to version %d", ev, n, maxV)
	}
	rows.Close()
	// I3: no hold outlived its expiry by more than a second.
	rows, err = db.Query(ctx, `SELECT id, expires_at, updated_at FROM bookings
		WHERE (status = 'expired' AND updated_at > expires_at + interval '1 second')
		   OR (status = 'in-progress' AND expires_at < now() - interval '1 second')`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id uuid.UUID
		var exp, upd time.Time
		if err := rows.Scan(&id, &exp, &upd); err != nil {
			return nil, err
		}
		add("late_expiry", "booking %s expired at %s, released at %s", id, exp.Format(time.RFC3339Nano), upd.Format(time.RFC3339Nano))
	}
	rows.Close()
	return vs, nil
}
