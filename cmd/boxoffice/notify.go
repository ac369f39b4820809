package main

import (
	"context"
	"time"

	"github.com/boxoffice/boxoffice/api/notify"
)

// noticeTuning is what tests may shorten: mail retry backoff and the
// webhook deliverer's settings.
type noticeTuning struct {
	MailBackoff, MailMaxBackoff time.Duration
	Mail                        notify.MailConfig
	Webhooks                    notify.WebhookConfig
}

func defaultNoticeTuning(c Config) noticeTuning {
	mc := notify.DefaultMailConfig()
	mc.SMTPURL, mc.PublicURL = c.SMTPURL, c.PublicURL
	return noticeTuning{MailBackoff: 5 * time.Second, MailMaxBackoff: 10 * time.Minute, Mail: mc,
		Webhooks: notify.DefaultWebhookConfig()}
}

// startNotices starts the node's notice workers (DESIGN.md "After the
// sale"): the mailer and the webhook fan-out follow the notice stream
// through consumers the cluster shares, and the webhook deliverer attempts
// due deliveries from PostgreSQL. Each runs on bg and ends with the node;
// none is on the path of a sale.
func (n *node) startNotices(ctx, bg context.Context) error {
	t := defaultNoticeTuning(n.cfg)
	if n.cfg.noticeTune != nil {
		n.cfg.noticeTune(&t)
	}
	keys, err := ticketKeys(ctx, n.cfg, n.db)
	if err != nil {
		return err
	}
	mailer, err := notify.NewMailer(t.Mail, n.db, keys, n.log.With("component", "mail"))
	if err != nil {
		return err
	}
	hooks, err := notify.NewWebhooks(t.Webhooks, n.db, n.log.With("component", "webhooks"))
	if err != nil {
		return err
	}
	if t.Mail.SMTPURL == "" {
		n.log.Info("BOXOFFICE_SMTP_URL is unset: buyer e-mails are logged, not sent")
	}
	mailRetry := func(attempt int) time.Duration { return notify.Backoff(attempt, t.MailBackoff, t.MailMaxBackoff) }
	hookRetry := func(attempt int) time.Duration {
		return notify.Backoff(attempt, t.Webhooks.Backoff, t.Webhooks.MaxBackoff)
	}
	n.goBackground(func() { _ = n.bus.FollowNotices(bg, "mail", mailRetry, mailer.Handle) })
	n.goBackground(func() { _ = n.bus.FollowNotices(bg, "webhooks", hookRetry, hooks.Handle) })
	n.goBackground(func() { hooks.Run(bg) })
	return nil
}
