// Package bus is boxoffice's NATS bus: an embedded nats-server (or an
// external NATS), the seat-delta subjects every node's WebSocket hub
// listens on, the seat-count reports search shows, and the JetStream
// catalog stream that carries PostgreSQL's outbox to every node's search
// index (DESIGN.md, "The read path").
//
// Seat deltas use core NATS: they are published once per committed
// version, in order, on one connection, and a hub that misses one sees a
// version gap and makes its clients resync. Catalog changes use JetStream
// because every node must apply every one of them, even after downtime: the
// relay publishes outbox rows with their row ID as the message ID (so a
// retried publish is deduplicated), and each node follows the stream with
// its own durable consumer.
package bus
