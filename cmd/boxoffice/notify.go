package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/notify"
	"github.com/boxoffice/boxoffice/persistence"
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
	wc := notify.DefaultWebhookConfig()
	wc.Addrs = &boxoffice.WebhookAddrs{Allow: c.WebhookAllow}
	return noticeTuning{MailBackoff: 5 * time.Second, MailMaxBackoff: 10 * time.Minute, Mail: mc,
		Webhooks: wc}
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
	n.goBackground(func() { pruneNotices(bg, n.db, n.log) })
	return nil
}

// Pruning of the notice path: published outbox rows after a day (the
// streams have them; a relay that lost its marks republishes only unsent
// rows), and the sinks' de-duplication marks and delivered webhooks once
// JetStream can no longer redeliver their notice (the stream keeps a week).
const (
	outboxKeep       = 24 * time.Hour
	noticeDoneKeep   = 8 * 24 * time.Hour
	noticePruneEvery = time.Hour
	noticePruneBatch = 10_000
)

// pruneNotices prunes at start and then every noticePruneEvery until ctx
// ends. Every node does it: the DELETEs are idempotent.
func pruneNotices(ctx context.Context, db *persistence.DB, log *slog.Logger) {
	t := time.NewTicker(noticePruneEvery)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			now := time.Now()
			n, err := db.PruneNotices(ctx, now.Add(-outboxKeep), now.Add(-noticeDoneKeep), noticePruneBatch)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("pruning the outbox and notice marks failed", "err", err)
				}
				break
			}
			if n < noticePruneBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
