package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/api/client"
)

// TestGeneratedClientEndToEnd is an integrator's session against a real
// node, made only through the client generated from api/openapi.yaml
// (api/client): a development token, search, the event view, a hold,
// payment, the booking, the caller's bookings and the booking's seats, and
// the conflict a second hold of the same seats gets. Every reply is also
// validated against the spec the node serves (GET /openapi.yaml), so the
// test fails when the spec and the server disagree: a field renamed in
// one of them (a required field missing from a reply, an unknown one in
// it) or a status the spec does not list for the operation.
func TestGeneratedClientEndToEnd(t *testing.T) {
	n := startSeededNode(t)
	ctx := context.Background()
	c := newSpecClient(t, n.URL, "")

	tok, err := c.CreateDevTokenWithResponse(ctx, client.CreateDevTokenJSONRequestBody{Email: "integrator@example.com"})
	mustReply(t, "createDevToken", err, tok, tok != nil && tok.JSON200 != nil)
	user := newSpecClient(t, n.URL, tok.JSON200.Token)

	// Search: the demo's stadium event, once the catalog has reached search.
	eventID := stadiumEventID()
	q := "Metallica"
	require.Eventually(t, func() bool {
		res, err := user.SearchEventsWithResponse(ctx, &client.SearchEventsParams{Q: &q})
		mustReply(t, "searchEvents", err, res, res != nil && res.JSON200 != nil)
		return slices.ContainsFunc(res.JSON200.Results, func(e client.PartialEvent) bool { return e.EventId.String() == eventID })
	}, searchCatchUp, 25*time.Millisecond, "the stadium event is searchable")

	ev, err := user.GetEventWithResponse(ctx, uuid.MustParse(eventID), nil)
	mustReply(t, "getEvent", err, ev, ev != nil && ev.JSON200 != nil)
	var seats []client.UUID
	for _, tk := range ev.JSON200.Tickets {
		if tk.Status == client.Available && len(seats) < 2 {
			seats = append(seats, tk.TicketId)
		}
	}
	if len(seats) != 2 {
		t.Fatalf("getEvent: %d available seats, want 2", len(seats))
	}

	res, err := user.ReserveSeatsWithResponse(ctx, nil, client.ReserveSeatsJSONRequestBody{EventId: ev.JSON200.Event.EventId, TicketIds: &seats})
	mustReply(t, "reserveSeats", err, res, res != nil && res.JSON201 != nil)
	held := res.JSON201
	if held.Status != client.ReservedBookingStatusInProgress || !slices.Equal(held.TicketIds, seats) || held.TotalPrice == "" {
		t.Errorf("reserveSeats: %+v", held)
	}

	body := client.ConfirmBookingJSONRequestBody{BookingId: held.BookingId}
	body.Payment.Method = client.Card
	body.Payment.Token = "tok_visa"
	conf, err := user.ConfirmBookingWithResponse(ctx, nil, body)
	mustReply(t, "confirmBooking", err, conf, conf != nil && conf.JSON200 != nil)
	if conf.JSON200.Status != client.ConfirmedBookingStatusConfirmed || conf.JSON200.BookingId != held.BookingId {
		t.Errorf("confirmBooking: %+v", conf.JSON200)
	}

	got, err := user.GetBookingWithResponse(ctx, held.BookingId)
	mustReply(t, "getBooking", err, got, got != nil && got.JSON200 != nil)
	if b := got.JSON200; b.Status != client.BookingStatusConfirmed || b.ConfirmedAt == nil || !slices.Equal(b.TicketIds, seats) ||
		b.TotalPrice != held.TotalPrice || b.Currency != held.Currency {
		t.Errorf("getBooking: %+v, want confirmed %v at %s %s", b, seats, held.TotalPrice, held.Currency)
	}

	mine, err := user.ListUserBookingsWithResponse(ctx, nil)
	mustReply(t, "listUserBookings", err, mine, mine != nil && mine.JSON200 != nil)
	if len(mine.JSON200.Bookings) != 1 || mine.JSON200.Bookings[0].BookingId != held.BookingId {
		t.Errorf("listUserBookings: %+v, want the one booking", mine.JSON200.Bookings)
	}

	// The booking's tickets: its seats are booked in the event view.
	ev, err = user.GetEventWithResponse(ctx, held.EventId, nil)
	mustReply(t, "getEvent", err, ev, ev != nil && ev.JSON200 != nil)
	for _, tk := range ev.JSON200.Tickets {
		if slices.Contains(seats, tk.TicketId) && tk.Status != client.Booked {
			t.Errorf("ticket %s of the booking is %s, want booked", tk.TicketId, tk.Status)
		}
	}

	// Paging through the client: two more holds, then one booking a page,
	// newest first, each once, until next_cursor is absent.
	var wantIDs []client.UUID
	for _, tk := range ev.JSON200.Tickets {
		if tk.Status != client.Available || len(wantIDs) == 2 {
			continue
		}
		one := []client.UUID{tk.TicketId}
		r, err := user.ReserveSeatsWithResponse(ctx, nil, client.ReserveSeatsJSONRequestBody{EventId: held.EventId, TicketIds: &one})
		mustReply(t, "reserveSeats", err, r, r != nil && r.JSON201 != nil)
		wantIDs = append(wantIDs, r.JSON201.BookingId)
	}
	wantIDs = append(wantIDs, held.BookingId)
	// My bookings lags the holds by the bookings projection's bound
	// (BOXOFFICE_BOOKINGS_WINDOW plus one write): wait until it lists them.
	require.Eventually(t, func() bool {
		p, err := user.ListUserBookingsWithResponse(ctx, nil)
		return err == nil && p.JSON200 != nil && len(p.JSON200.Bookings) >= len(wantIDs)
	}, 10*time.Second, 10*time.Millisecond, "My bookings lists the new holds")
	var gotIDs []client.UUID
	limit := 1
	params := &client.ListUserBookingsParams{Limit: &limit}
	for range len(wantIDs) + 1 {
		p, err := user.ListUserBookingsWithResponse(ctx, params)
		mustReply(t, "listUserBookings", err, p, p != nil && p.JSON200 != nil)
		for _, b := range p.JSON200.Bookings {
			gotIDs = append(gotIDs, b.BookingId)
		}
		if p.JSON200.NextCursor == nil {
			break
		}
		params.Cursor = p.JSON200.NextCursor
	}
	// Holds made in one test may share a creation time; the order is then
	// by id, so compare as sets of exactly-once bookings.
	if slices.SortFunc(gotIDs, compareUUID); !slices.Equal(gotIDs, sortedUUIDs(wantIDs)) {
		t.Errorf("paged bookings %v, want each of %v once", gotIDs, wantIDs)
	}

	// A documented error through the client: the same seats again are a
	// 409 seat_unavailable naming them.
	other := newSpecClient(t, n.URL, n.token(t, "other@example.com"))
	again, err := other.ReserveSeatsWithResponse(ctx, nil, client.ReserveSeatsJSONRequestBody{EventId: held.EventId, TicketIds: &seats})
	mustReply(t, "reserveSeats again", err, again, again != nil && again.JSON409 != nil)
	su, err := again.JSON409.AsSeatUnavailableError()
	if err != nil || su.Error.Code != client.SeatUnavailable || len(su.Error.Details.TicketIds) == 0 {
		t.Errorf("reserveSeats again: %v %+v", err, su)
	}
}

// newSpecClient is the generated client for the node at base, sending
// token (if any) and validating every exchange against the node's spec.
func newSpecClient(t *testing.T, base, token string) *client.ClientWithResponses {
	t.Helper()
	v := &specValidator{t: t, base: http.DefaultTransport}
	opts := []client.ClientOption{client.WithHTTPClient(&http.Client{Transport: v})}
	if token != "" {
		opts = append(opts, client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	}
	c, err := client.NewClientWithResponses(base, opts...)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	v.router = servedSpecRouter(t, base)
	return c
}

// servedSpecRouter loads the spec the node serves, as an integrator
// generating a client from it would.
func servedSpecRouter(t *testing.T, base string) routers.Router {
	t.Helper()
	resp, err := http.Get(base + "/openapi.yaml")
	if err != nil {
		t.Fatalf("GET /openapi.yaml: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.yaml: %d %v", resp.StatusCode, err)
	}
	specFormatsOnce.Do(func() {
		// Ticket IDs are version-8 UUIDs (boxoffice.TicketSpace): RFC 9562.
		openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
	})
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("served openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served openapi.yaml is not valid: %v", err)
	}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("served openapi.yaml: %v", err)
	}
	return r
}

var specFormatsOnce sync.Once

// specValidator is an http.RoundTripper that checks each reply against
// the spec's operation for the request (status listed, headers and body
// valid) and fails the test when it is not.
type specValidator struct {
	t      *testing.T
	base   http.RoundTripper
	router routers.Router
}

// RoundTrip sends req and validates the reply.
func (v *specValidator) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err := v.check(req, resp, data); err != nil {
		v.t.Errorf("%s %s: the reply does not match the served openapi.yaml: %.800s\nbody: %.500s", req.Method, req.URL.Path, err, data)
	}
	return resp, nil
}

func (v *specValidator) check(req *http.Request, resp *http.Response, data []byte) error {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no operation: %w", err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: opts}
	out.SetBodyBytes(data)
	return openapi3filter.ValidateResponse(req.Context(), out)
}

// mustReply ends the test unless the call got the reply it expects (ok),
// naming the status and body it got instead.
func mustReply(t *testing.T, what string, err error, r interface{ StatusCode() int }, ok bool) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !ok {
		// Every generated reply type has the raw body in its Body field.
		body := reflect.ValueOf(r).Elem().FieldByName("Body").Bytes()
		t.Fatalf("%s: unexpected reply %d %.500s", what, r.StatusCode(), body)
	}
}

func compareUUID(a, b client.UUID) int { return strings.Compare(a.String(), b.String()) }

func sortedUUIDs(ids []client.UUID) []client.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, compareUUID)
	return out
}
