package web

import (
	"net/http"
	"strconv"
	"strings"
)

// PrefersHTML reports whether r's Accept header ranks text/html above
// application/json, as a browser's page navigation does ("text/html,...,
// */*;q=0.8"). An API client that sends no Accept header, */*, or
// application/json gets false, so a route shared by a page and the JSON API
// (GET /events/{eventId}) can send browsers the page and everyone else the
// JSON without guessing from the User-Agent.
func PrefersHTML(r *http.Request) bool {
	htmlQ, jsonQ := -1.0, -1.0
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		media, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := qValue(params)
		switch strings.ToLower(strings.TrimSpace(media)) {
		case "text/html", "application/xhtml+xml":
			htmlQ = max(htmlQ, q)
		case "application/json":
			jsonQ = max(jsonQ, q)
		}
	}
	return htmlQ > 0 && htmlQ > jsonQ
}

// qValue reads the q parameter of one Accept entry (1 when absent, 0 when
// malformed, so a garbled entry never wins).
func qValue(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || strings.TrimSpace(k) != "q" {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}
