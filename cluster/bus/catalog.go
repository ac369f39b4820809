package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Catalog stream names.
const (
	CatalogStream  = "CATALOG"
	catalogPrefix  = "boxoffice.catalog."
	catalogSubject = catalogPrefix + ">"
)

// OutboxSource is PostgreSQL's outbox as the relay reads it.
type OutboxSource interface {
	// TryRelayLock takes the cluster-wide relay lock if it is free.
	TryRelayLock(ctx context.Context) (release func(), ok bool, err error)
	// PendingOutbox returns unsent rows in ID order.
	PendingOutbox(ctx context.Context, limit int) ([]OutboxRow, error)
	// MarkOutboxSent records rows as published.
	MarkOutboxSent(ctx context.Context, ids []int64) error
}

// OutboxRow is one catalog change waiting to be published.
type OutboxRow struct {
	ID      int64
	Topic   string
	Payload []byte
}

// EnsureCatalogStream creates or updates the catalog stream (file storage,
// so a restart loses nothing; a dedup window so retried publishes count once)
// and the notice stream, the relay's other destination.
func (b *Bus) EnsureCatalogStream(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		_, err = b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: CatalogStream, Subjects: []string{catalogSubject}, Storage: jetstream.FileStorage,
			Replicas: b.cfg.Replicas, Duplicates: 10 * time.Minute,
		})
		if err == nil {
			err = b.ensureNoticeStream(ctx)
		}
		if err == nil {
			return nil
		}
		// A NATS cluster needs a moment to elect its JetStream leader.
		select {
		case <-ctx.Done():
			return fmt.Errorf("bus: catalog stream (last error: %v): %w", err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("bus: catalog stream: %w", err)
}

// RunRelay publishes the outbox to the catalog stream (notices to the
// notice stream) until ctx ends. Only
// the node holding the relay lock publishes; the others wait for it. Rows go
// out in ID order, each acknowledged by JetStream before it is marked sent,
// with its ID as message ID so a publish retried after a crash is dropped
// as a duplicate.
func (b *Bus) RunRelay(ctx context.Context, src OutboxSource, poll time.Duration) error {
	for ctx.Err() == nil {
		release, ok, err := src.TryRelayLock(ctx)
		if err != nil || !ok {
			sleep(ctx, 10*poll)
			continue
		}
		err = b.relay(ctx, src, poll)
		release()
		if err != nil && ctx.Err() == nil {
			sleep(ctx, 5*poll)
		}
	}
	return ctx.Err()
}

// relay publishes while it holds the lock; it returns on the first error
// so the lock is retaken on a fresh connection.
func (b *Bus) relay(ctx context.Context, src OutboxSource, poll time.Duration) error {
	for ctx.Err() == nil {
		rows, err := src.PendingOutbox(ctx, 256)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			sleep(ctx, poll)
			continue
		}
		ids := make([]int64, 0, len(rows))
		for _, r := range rows {
			_, err := b.js.Publish(ctx, subjectOf(r.Topic), r.Payload, jetstream.WithMsgID(strconv.FormatInt(r.ID, 10)))
			if err != nil {
				if len(ids) > 0 {
					_ = src.MarkOutboxSent(ctx, ids)
				}
				return fmt.Errorf("bus: publish outbox row %d: %w", r.ID, err)
			}
			ids = append(ids, r.ID)
		}
		if err := src.MarkOutboxSent(ctx, ids); err != nil {
			return err
		}
	}
	return nil
}

// FollowCatalog applies every catalog message, in stream order, through a
// durable consumer named durable, acking each only after apply succeeds;
// a failed apply is redelivered. It survives NATS restarts and returns when
// ctx ends.
func (b *Bus) FollowCatalog(ctx context.Context, durable string, apply func(topic string, payload []byte) error) error {
	for ctx.Err() == nil {
		cons, err := b.js.CreateOrUpdateConsumer(ctx, CatalogStream, jetstream.ConsumerConfig{
			Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
			MaxAckPending: 256, AckWait: 30 * time.Second,
		})
		if err != nil {
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		if err := follow(ctx, cons, apply); err != nil && ctx.Err() == nil {
			sleep(ctx, 500*time.Millisecond)
		}
	}
	return ctx.Err()
}

// fetch asks cons for up to n messages, waiting at most about a second for
// them, and gives up at once when ctx ends. (Fetch's own FetchMaxWait cannot
// be cancelled: every stopping follower waited out its second, and a node
// stop waited for its slowest follower.) Call done after the batch is read.
func fetch(ctx context.Context, cons jetstream.Consumer, n int) (batch jetstream.MessageBatch, done context.CancelFunc, err error) {
	fctx, cancel := context.WithTimeout(ctx, time.Second)
	batch, err = cons.Fetch(n, jetstream.FetchContext(fctx))
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return batch, cancel, nil
}

func follow(ctx context.Context, cons jetstream.Consumer, apply func(string, []byte) error) error {
	for ctx.Err() == nil {
		batch, done, err := fetch(ctx, cons, 256)
		if err != nil {
			return err
		}
		for m := range batch.Messages() {
			topic := strings.TrimPrefix(m.Subject(), catalogPrefix)
			if err := apply(topic, m.Data()); err != nil {
				_ = m.NakWithDelay(time.Second)
				continue
			}
			_ = m.Ack()
		}
		err = batch.Error()
		done()
		if err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
	return nil
}

// CatalogSeq is the catalog stream's last sequence.
func (b *Bus) CatalogSeq(ctx context.Context) (uint64, error) {
	s, err := b.js.Stream(ctx, CatalogStream)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
