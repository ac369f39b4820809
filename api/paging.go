package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
)

// Paging of lists (API.md, Additions: Paging): ?limit= (default 50, at
// most 200) and ?cursor=, the reply's next_cursor absent on the last page.
const (
	defaultPageLimit = 50
	maxPageLimit     = 200
)

// pageKey is the position of the last item of a page in a list ordered by
// (time, id) descending; the next page starts after it. The zero key is
// the start of the list.
type pageKey struct {
	at time.Time
	id uuid.UUID
}

// A cursor is pageKey in base64url (no padding): a version byte, the time
// in Unix microseconds (PostgreSQL's precision) big-endian, the id, and a
// check of 4 bytes of SHA-256 over the rest. The check catches a cursor
// that was cut, altered or made up (400, not a silently wrong page); it is
// not a signature, and need not be: a cursor only positions a list within
// what the caller may see anyway (the query is scoped to the caller), so
// a forged one can reveal nothing.
const (
	cursorVersion = 1
	cursorLen     = 1 + 8 + 16 + 4
)

var cursorContext = []byte("boxoffice list cursor")

// cursorTimeMax bounds a cursor's time to what PostgreSQL and Go both
// represent, so that a forged cursor with a valid check cannot make the
// store fail (a 5xx) instead of answering 400.
var cursorTimeMax = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

func (k pageKey) cursor() string {
	b := make([]byte, 0, cursorLen)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(k.at.UnixMicro()))
	b = append(b, k.id[:]...)
	b = append(b, cursorCheck(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func cursorCheck(b []byte) []byte {
	h := sha256.New()
	h.Write(cursorContext)
	h.Write(b)
	return h.Sum(nil)[:4]
}

var errBadCursor = boxoffice.InvalidField("cursor", "cursor is not one this API gave: pass next_cursor from the previous page unchanged")

// parseCursor decodes a cursor; anything but one this API could have
// given is 400 invalid_argument naming the field cursor.
func parseCursor(s string) (pageKey, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != cursorLen || b[0] != cursorVersion ||
		!bytes.Equal(b[cursorLen-4:], cursorCheck(b[:cursorLen-4])) {
		return pageKey{}, errBadCursor
	}
	micros := int64(binary.BigEndian.Uint64(b[1:9]))
	if micros <= 0 || micros > cursorTimeMax.UnixMicro() {
		return pageKey{}, errBadCursor
	}
	k := pageKey{at: time.UnixMicro(micros).UTC()}
	copy(k.id[:], b[9:25])
	return k, nil
}

// parsePage reads ?limit= and ?cursor=; an empty value is the default.
func parsePage(q url.Values) (limit int, after pageKey, err error) {
	limit = defaultPageLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return 0, pageKey{}, boxoffice.InvalidField("limit", "limit must be 1..%d", maxPageLimit)
		}
		limit = n
	}
	if v := q.Get("cursor"); v != "" {
		if len(v) > 2*cursorLen {
			return 0, pageKey{}, errBadCursor
		}
		if after, err = parseCursor(v); err != nil {
			return 0, pageKey{}, err
		}
	}
	return limit, after, nil
}

// userBookingsPage is one page of the caller's bookings and the cursor of
// the next (empty on the last page): it asks for one more than limit to
// know whether there is a next page.
func (s *Server) userBookingsPage(r *http.Request, userID uuid.UUID, q url.Values) (bookingsJSON, error) {
	limit, after, err := parsePage(q)
	if err != nil {
		return bookingsJSON{}, err
	}
	if s.deps.Bookings == nil {
		return bookingsJSON{}, errNoBookings
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	bs, err := s.deps.Bookings.UserBookingsPage(ctx, userID, after.at, after.id, limit+1)
	if err != nil {
		return bookingsJSON{}, err
	}
	out := bookingsJSON{Bookings: make([]bookingJSON, 0, min(len(bs), limit))}
	for i, b := range bs {
		if i == limit {
			last := bs[limit-1]
			out.NextCursor = pageKey{at: last.CreatedAt, id: last.ID}.cursor()
			break
		}
		out.Bookings = append(out.Bookings, renderBooking(b))
	}
	return out, nil
}
