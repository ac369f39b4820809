package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// serveLocal runs one request through the handler in process (no socket,
// so a fuzzer gets many iterations) and checks it against openapi.yaml.
func (h *harness) serveLocal(t *testing.T, method, path string, body []byte, headers ...string) reply {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, req)
	rep := reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	checkReq := httptest.NewRequest(method, path, nil)
	checkReq.Header = req.Header
	checkSpec(t, checkReq, body, rep)
	return rep
}

// FuzzReserveDecode: no body makes POST /booking/reserve answer anything
// but a documented 201 or 4xx.
func FuzzReserveDecode(f *testing.F) {
	h := newHarness(f)
	event, tickets := h.seedEvent()
	token, _ := h.userToken("fuzz")
	f.Add([]byte(`{"event_id":"` + event.String() + `","ticket_ids":["` + tickets[0].String() + `"]}`))
	f.Add([]byte(`{"event_id":"` + event.String() + `","ticket_id":"` + tickets[1].String() + `"}`))
	f.Add([]byte(`{"event_id":"` + event.String() + `","ticket_ids":["` + tickets[2].String() + `","` + tickets[2].String() + `"]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := h.serveLocal(t, "POST", "/booking/reserve", body, auth(token)...)
		switch r.status {
		case http.StatusCreated, http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("body %q: status %d %s", body, r.status, r.body)
		}
	})
}

// FuzzJWT: no bearer token makes an authenticated route answer anything
// but 200 (a valid token) or 401.
func FuzzJWT(f *testing.F) {
	h := newHarness(f)
	valid := h.token(boxoffice.User{ID: uuid.New(), Roles: []string{"admin"}})
	f.Add(valid)
	f.Add(unsigned(validClaims()))
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": uuid.NewString()}).SignedString(testSecret)
	f.Add(noExp)
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": uuid.NewString(), "exp": time.Now().Add(-time.Hour).Unix()}).SignedString(testSecret)
	f.Add(expired)
	f.Fuzz(func(t *testing.T, token string) {
		r := h.serveLocal(t, "GET", "/user/bookings", nil, "Authorization", "Bearer "+token)
		if r.status != http.StatusOK && r.status != http.StatusUnauthorized {
			t.Fatalf("token %q: status %d %s", token, r.status, r.body)
		}
		if r.status == http.StatusOK && !genuine(token) {
			t.Fatalf("token %q accepted", token)
		}
	})
}

// genuine is the reference check: an HS256 token signed with testSecret,
// unexpired, whose sub is a canonical UUID. The fuzzer cannot forge one,
// so in practice only the seeds (minted in any fuzz worker) pass.
func genuine(token string) bool {
	var c jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return testSecret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	if err != nil {
		return false
	}
	id, err := uuid.Parse(c.Subject)
	return err == nil && id.String() == c.Subject
}
