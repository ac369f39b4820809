package api_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// bookingsPage is the reply of GET /user/bookings.
type bookingsPage struct {
	Bookings   []bookingReply `json:"bookings"`
	NextCursor string         `json:"next_cursor"`
}

// putBookings stores n bookings of user created from at onwards, three to
// a timestamp (so that the id must break ties), and returns their ids in
// the API's order: newest first, then by id descending.
func putBookings(h *harness, user uuid.UUID, at time.Time, n int) []uuid.UUID {
	h.t.Helper()
	type key struct {
		at time.Time
		id uuid.UUID
	}
	var keys []key
	for i := range n {
		b := boxoffice.Booking{ID: uuid.New(), UserID: user, EventID: uuid.New(), TicketIDs: []uuid.UUID{uuid.New()},
			Status: boxoffice.BookingConfirmed, Total: 1000, Currency: "EUR",
			CreatedAt: at.Add(time.Duration(i/3) * time.Second)}
		b.ExpiresAt, b.ConfirmedAt, b.UpdatedAt = b.CreatedAt.Add(10*time.Minute), b.CreatedAt, b.CreatedAt
		h.bookings.put(b)
		keys = append(keys, key{b.CreatedAt, b.ID})
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return bytes.Compare(b.id[:], a.id[:])
	})
	ids := make([]uuid.UUID, len(keys))
	for i, k := range keys {
		ids[i] = k.id
	}
	return ids
}

// page gets one page of GET /user/bookings.
func page(t *testing.T, h *harness, token, query string) bookingsPage {
	t.Helper()
	r := h.do("GET", "/user/bookings"+query, nil, auth(token)...)
	mustStatus(t, r, http.StatusOK)
	var p bookingsPage
	r.decode(t, &p)
	return p
}

// TestUserBookingsPaging: paging through many bookings with a small limit
// gives each exactly once, in the one-page order, also when new bookings
// are made between pages; the default page is 50, the largest 200.
func TestUserBookingsPaging(t *testing.T) {
	h := newHarness(t)
	ada, adaID := h.userToken("ada")
	_, bobID := h.userToken("bob")
	start := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	want := putBookings(h, adaID, start, 101)
	putBookings(h, bobID, start, 20) // interleaved in time; never on ada's pages

	whole := page(t, h, ada, "?limit=200")
	if whole.NextCursor != "" || len(whole.Bookings) != len(want) {
		t.Fatalf("limit=200: %d bookings, next_cursor %q; want all %d and none", len(whole.Bookings), whole.NextCursor, len(want))
	}
	for i, b := range whole.Bookings {
		if b.BookingID != want[i] {
			t.Fatalf("limit=200: booking %d is %s, want %s (newest first, then by id)", i, b.BookingID, want[i])
		}
	}
	if first := page(t, h, ada, ""); len(first.Bookings) != 50 || first.NextCursor == "" {
		t.Errorf("default page: %d bookings, next_cursor %q; want 50 and a cursor", len(first.Bookings), first.NextCursor)
	}

	for _, limit := range []string{"1", "7", "50", "101"} {
		t.Run("limit="+limit, func(t *testing.T) {
			ada, adaID := h.userToken("ada " + limit) // a list of its own, untouched by the other runs
			want := putBookings(h, adaID, start, 101)
			var got []uuid.UUID
			query := "?limit=" + limit
			for pages := 0; ; pages++ {
				if pages > len(want)+1 {
					t.Fatalf("more pages than bookings: the cursor does not advance")
				}
				p := page(t, h, ada, query)
				for _, b := range p.Bookings {
					got = append(got, b.BookingID)
				}
				// A booking made between pages is newer than all of them:
				// it must not shift the pages still to come.
				putBookings(h, adaID, start.Add(time.Hour+time.Duration(len(got))*time.Second), 1)
				if p.NextCursor == "" {
					break
				}
				query = "?limit=" + limit + "&cursor=" + url.QueryEscape(p.NextCursor)
			}
			if !slices.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Errorf("paged %d bookings, want each of %d exactly once in order; they differ from position %d", len(got), len(want), i)
			}
		})
	}
}

// TestUserBookingsPagingAbuse: a limit out of range and any cursor the API
// did not give (cut, extended, altered, made up, huge) are 400
// invalid_argument naming the field, never a 5xx or a wrong page; another
// user's cursor only positions the caller's own list.
func TestUserBookingsPagingAbuse(t *testing.T) {
	h := newHarness(t)
	ada, adaID := h.userToken("ada")
	bob, bobID := h.userToken("bob")
	start := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	putBookings(h, adaID, start, 10)
	bobs := putBookings(h, bobID, start, 4)
	c := page(t, h, ada, "?limit=3").NextCursor
	if c == "" {
		t.Fatal("no next_cursor")
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		t.Fatalf("cursor %q is not base64url: %v", c, err)
	}
	alter := func(i int) string {
		b := slices.Clone(raw)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for _, tc := range []struct{ name, query, field string }{
		{"limit 0", "?limit=0", "limit"},
		{"limit 201", "?limit=201", "limit"},
		{"limit negative", "?limit=-1", "limit"},
		{"limit not a number", "?limit=ten", "limit"},
		{"limit huge", "?limit=99999999999999999999", "limit"},
		{"cut", "?cursor=" + c[:len(c)-1], "cursor"},
		{"cut to half", "?cursor=" + c[:len(c)/2], "cursor"},
		{"extended", "?cursor=" + c + "A", "cursor"},
		{"padded", "?cursor=" + url.QueryEscape(base64.URLEncoding.EncodeToString(raw)), "cursor"},
		{"standard alphabet", "?cursor=" + url.QueryEscape(base64.StdEncoding.EncodeToString(raw)), "cursor"},
		{"version altered", "?cursor=" + alter(0), "cursor"},
		{"time altered", "?cursor=" + alter(5), "cursor"},
		{"id altered", "?cursor=" + alter(12), "cursor"},
		{"check altered", "?cursor=" + alter(len(raw)-1), "cursor"},
		{"made up", "?cursor=" + base64.RawURLEncoding.EncodeToString(make([]byte, len(raw))), "cursor"},
		{"a booking id", "?cursor=" + uuid.NewString(), "cursor"},
		{"not base64", "?cursor=%21%21%21%00%ff", "cursor"},
		{"huge", "?cursor=" + strings.Repeat("A", 100000), "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("GET", "/user/bookings"+tc.query, nil, auth(ada)...)
			wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
			if r.errorField() != tc.field {
				t.Errorf("details.field %q, want %q", r.errorField(), tc.field)
			}
		})
	}

	// Ada's cursor in Bob's hands positions Bob's list, nothing more.
	p := page(t, h, bob, "?cursor="+url.QueryEscape(c))
	for _, b := range p.Bookings {
		if !slices.Contains(bobs, b.BookingID) {
			t.Errorf("bob with ada's cursor got booking %s, not his", b.BookingID)
		}
	}
}
