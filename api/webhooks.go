package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/notify"
)

// Organisers' webhooks (API.md "Tickets and check-in"): registered here,
// delivered by api/notify.

type webhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

type webhookJSON struct {
	WebhookID string   `json:"webhook_id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Secret    string   `json:"secret,omitempty"`
	CreatedAt string   `json:"created_at"`
	// The delivery state, in the list only.
	Pending     *int    `json:"pending,omitempty"`
	Delivered   *int    `json:"delivered,omitempty"`
	Attempts    *int    `json:"attempts,omitempty"`
	LastError   *string `json:"last_error,omitempty"`
	LastErrorAt *string `json:"last_error_at,omitempty"`
}

var errNoWebhooks = boxoffice.Errorf(boxoffice.EUnavailable, "webhooks are not available on this node")

// validate checks the body: an absolute http(s) URL and a non-empty set of
// known notice types, each once.
func (req webhookRequest) validate() error {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(req.URL) > 2048 {
		return boxoffice.InvalidField("url", "url must be an absolute http or https URL")
	}
	if len(req.Events) == 0 {
		return boxoffice.InvalidField("events", "events must name at least one of %v", boxoffice.NoticeTypes)
	}
	for i, e := range req.Events {
		if !boxoffice.IsNoticeType(e) {
			return boxoffice.InvalidField("events", "unknown event %q; want one of %v", e, boxoffice.NoticeTypes)
		}
		if slices.Contains(req.Events[:i], e) {
			return boxoffice.InvalidField("events", "event %q is listed twice", e)
		}
	}
	return nil
}

// handleCreateWebhook is POST /admin/api/webhooks: the signing secret is
// in this answer only.
func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request, _ boxoffice.User) error {
	var req webhookRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	if s.deps.Webhooks == nil {
		return errNoWebhooks
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	wh, err := s.deps.Webhooks.CreateWebhook(ctx, boxoffice.Webhook{ID: uuid.New(), URL: req.URL, Events: req.Events, Secret: notify.NewSecret()})
	if err != nil {
		return err
	}
	out := renderWebhook(wh)
	out.Secret = wh.Secret
	WriteJSON(w, http.StatusCreated, out)
	return nil
}

// handleWebhooks is GET /admin/api/webhooks: every webhook with how its
// deliveries fare (failures are retried quietly; this is where they show).
func (s *Server) handleWebhooks(w http.ResponseWriter, r *http.Request, _ boxoffice.User) error {
	if s.deps.Webhooks == nil {
		return errNoWebhooks
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	list, err := s.deps.Webhooks.Webhooks(ctx)
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(list))
	for i, st := range list {
		out[i] = renderWebhook(st.Webhook)
		out[i].Pending, out[i].Delivered, out[i].Attempts = &st.Pending, &st.Delivered, &st.Attempts
		if st.LastError != "" {
			at := st.LastErrorAt.UTC().Format(time.RFC3339)
			out[i].LastError, out[i].LastErrorAt = &st.LastError, &at
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"webhooks": out})
	return nil
}

func renderWebhook(wh boxoffice.Webhook) webhookJSON {
	return webhookJSON{WebhookID: wh.ID.String(), URL: wh.URL, Events: wh.Events, CreatedAt: wh.CreatedAt.UTC().Format(time.RFC3339)}
}
