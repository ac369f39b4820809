package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/boxoffice/boxoffice"
)

// Notice stream names. Notices (booking.confirmed, event.sold_out...) leave
// PostgreSQL through the same outbox and relay as catalog changes, but on a
// stream of their own: the search indexers must not see them, and their
// consumers are shared by the cluster (each notice is handled by one node),
// where every node follows the whole catalog.
const (
	NoticeStream  = "NOTICES"
	noticePrefix  = "boxoffice.notice."
	noticeSubject = noticePrefix + ">"
)

// subjectOf is the subject an outbox row of topic is published on.
func subjectOf(topic string) string {
	if boxoffice.IsNoticeType(topic) {
		return noticePrefix + topic
	}
	return catalogPrefix + topic
}

// ensureNoticeStream creates or updates the notice stream: file storage so
// a restart loses nothing, a dedup window so a publish the relay retries
// after a crash counts once, and messages kept for a week so a sink that is
// down for days (a dead SMTP server) still gets them.
func (b *Bus) ensureNoticeStream(ctx context.Context) error {
	_, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: NoticeStream, Subjects: []string{noticeSubject}, Storage: jetstream.FileStorage,
		Replicas: b.cfg.Replicas, Duplicates: 10 * time.Minute, MaxAge: 7 * 24 * time.Hour,
	})
	return err
}

// NoticeHandler handles one notice: id is its outbox row id (the message
// id the relay published it under, the key to de-duplicate by), typ one of
// boxoffice.NoticeTypes. A nil return acknowledges the notice; an error
// has it delivered again after retry(attempt), where attempt counts from 1.
type NoticeHandler func(ctx context.Context, id int64, typ string, payload []byte) error

// FollowNotices hands every notice to handle through the durable consumer
// durable, which all nodes share: each notice goes to one node at a time,
// and again (to any node) until one acknowledges it, so delivery is at
// least once and handle must be idempotent. A handler that fails is
// retried after retry(n) for its n-th delivery; it runs one notice at a
// time, so a slow sink holds back only its own consumer. It survives NATS
// restarts and returns when ctx ends.
func (b *Bus) FollowNotices(ctx context.Context, durable string, retry func(attempt int) time.Duration, handle NoticeHandler) error {
	for ctx.Err() == nil {
		cons, err := b.js.CreateOrUpdateConsumer(ctx, NoticeStream, jetstream.ConsumerConfig{
			Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
			MaxAckPending: 64, AckWait: 2 * time.Minute,
		})
		if err != nil {
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		if err := followNotices(ctx, cons, retry, handle); err != nil && ctx.Err() == nil {
			sleep(ctx, 500*time.Millisecond)
		}
	}
	return ctx.Err()
}

func followNotices(ctx context.Context, cons jetstream.Consumer, retry func(int) time.Duration, handle NoticeHandler) error {
	for ctx.Err() == nil {
		// Few at a time: they are handled one after another, and a fetched
		// batch must be done within AckWait even when each waits for a
		// slow sink.
		batch, done, err := fetch(ctx, cons, 4)
		if err != nil {
			return err
		}
		for m := range batch.Messages() {
			handleNotice(ctx, m, retry, handle)
		}
		err = batch.Error()
		done()
		if err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
	return nil
}

// handleNotice runs handle on one message and acks or naks it. A message
// without a usable id (not published by the relay) is dropped.
func handleNotice(ctx context.Context, m jetstream.Msg, retry func(int) time.Duration, handle NoticeHandler) {
	id, err := strconv.ParseInt(m.Headers().Get("Nats-Msg-Id"), 10, 64)
	if err != nil {
		_ = m.Term()
		return
	}
	typ := strings.TrimPrefix(m.Subject(), noticePrefix)
	if err := handle(ctx, id, typ, m.Data()); err != nil {
		attempt := 1
		if md, mdErr := m.Metadata(); mdErr == nil {
			attempt = int(md.NumDelivered)
		}
		_ = m.NakWithDelay(retry(attempt))
		return
	}
	_ = m.Ack()
}

// NoticeSeq is the notice stream's last sequence (tests wait for it).
func (b *Bus) NoticeSeq(ctx context.Context) (uint64, error) {
	s, err := b.js.Stream(ctx, NoticeStream)
	if err != nil {
		return 0, fmt.Errorf("bus: notice stream: %w", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: notice stream: %w", err)
	}
	return info.State.LastSeq, nil
}
