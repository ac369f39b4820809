package api

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"

	"github.com/boxoffice/boxoffice"
)

// openAPISpec is the contract in OpenAPI 3.0.3, served as is and checked
// against every response in the tests.
//
//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPI returns the embedded OpenAPI document, for tools that check or
// publish it.
func OpenAPI() []byte { return append([]byte(nil), openAPISpec...) }

func (s *Server) handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPISpec)
}

type healthJSON struct {
	Status string `json:"status"`
	Node   string `json:"node"`
}

// handleHealth is GET /healthz: the process is up and serving.
func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, healthJSON{Status: "ok", Node: s.cfg.NodeName})
}

// handleReady is GET /readyz: the store is reachable and the cluster
// joined, as Deps.Ready judges.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) error {
	if s.deps.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		if err := s.deps.Ready(ctx); err != nil {
			return fmt.Errorf("readiness: %w: %w", boxoffice.Errorf(boxoffice.EUnavailable, "the node is not ready"), err)
		}
	}
	WriteJSON(w, http.StatusOK, healthJSON{Status: "ready", Node: s.cfg.NodeName})
	return nil
}

// handleSearch is GET /search, answered by the search plug.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) error {
	if s.deps.Search == nil {
		return boxoffice.Errorf(boxoffice.EUnavailable, "search is not available on this node")
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	body, err := s.deps.Search.Search(ctx, r.URL.Query())
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, body)
	return nil
}

type indexJSON struct {
	Name           string            `json:"name"`
	Node           string            `json:"node"`
	Mode           Mode              `json:"mode"`
	HoldTTLSeconds int               `json:"hold_ttl_seconds"`
	Links          map[string]string `json:"links"`
}

// handleIndex is GET / without the web pages: where to go from here.
func (s *Server) handleIndex(w http.ResponseWriter, _ *http.Request) {
	links := map[string]string{
		"openapi": "/openapi.yaml",
		"search":  "/search?q=",
		"event":   "/events/{eventId}",
		"seats":   "/events/{eventId}/seats/ws",
		"reserve": "/booking/reserve",
		"health":  "/healthz",
		"ready":   "/readyz",
		"metrics": "/admin/api/metrics",
	}
	if s.cfg.MetricsOnAPI {
		links["metrics"] = "/metrics"
	}
	if s.cfg.Mode == ModeDev {
		links["token"] = "/auth/token"
	}
	WriteJSON(w, http.StatusOK, indexJSON{
		Name: "boxoffice", Node: s.cfg.NodeName, Mode: s.cfg.Mode,
		HoldTTLSeconds: int(s.cfg.HoldTTL.Seconds()), Links: links,
	})
}
