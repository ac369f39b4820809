package api

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
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
func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
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
	org := uuid.Nil
	if !u.IsAdmin() {
		// An organiser's webhook gets its organisation's notices, and may
		// not make the node call into its own network.
		org = u.OrgID
		if err := s.webhookTarget(ctx, req.URL); err != nil {
			return err
		}
	}
	wh, err := s.deps.Webhooks.CreateWebhook(ctx, boxoffice.Webhook{ID: uuid.New(), URL: req.URL, Events: req.Events, Secret: notify.NewSecret(), OrgID: org})
	if err != nil {
		return err
	}
	noteAudit(r.Context(), "webhook", wh.ID.String(), org, nil, renderWebhook(wh))
	out := renderWebhook(wh)
	out.Secret = wh.Secret
	WriteJSON(w, http.StatusCreated, out)
	return nil
}

// handleWebhooks is GET /admin/api/webhooks: every webhook with how its
// deliveries fare (failures are retried quietly; this is where they show).
func (s *Server) handleWebhooks(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	if s.deps.Webhooks == nil {
		return errNoWebhooks
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	list, err := s.deps.Webhooks.Webhooks(ctx)
	if err != nil {
		return err
	}
	// An organiser sees its organisation's webhooks only.
	list = slices.DeleteFunc(list, func(st boxoffice.WebhookStatus) bool { return !u.IsAdmin() && !u.Runs(st.OrgID) })
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

// webhookTarget refuses an organiser's webhook URL whose host is, or
// resolves to, a loopback, private or other special address outside
// Config.WebhookAllow (400 on field url). The deliverer checks the address
// it dials again, so a name that changes its answer later gains nothing.
func (s *Server) webhookTarget(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return boxoffice.InvalidField("url", "url must be an absolute http or https URL")
	}
	policy := boxoffice.WebhookAddrs{Allow: s.cfg.WebhookAllow}
	host := strings.TrimSuffix(u.Hostname(), ".")
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	} else if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil || len(addrs) == 0 {
		return boxoffice.InvalidField("url", "url's host %q does not resolve", host)
	}
	for _, a := range addrs {
		if !policy.Permits(a) {
			return boxoffice.InvalidField("url", "url's host %q is a loopback, private or special address (%s); only public addresses, or ranges in BOXOFFICE_WEBHOOK_ALLOW_CIDRS, may receive webhooks", host, a)
		}
	}
	return nil
}
