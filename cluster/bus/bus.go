package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config says which NATS to use and, when it is embedded, how to run it.
type Config struct {
	// URL of an external NATS; empty starts an embedded nats-server.
	URL string
	// Host and Port are the embedded server's client listener; port 0
	// picks a free port.
	Host string
	Port int
	// ClusterPort is the embedded server's route port, so the nodes'
	// servers form one NATS cluster; 0 runs it alone.
	ClusterPort int
	// Routes are nats-route://host:port URLs of the other nodes' servers.
	Routes []string
	// StoreDir keeps JetStream's files; empty uses a temporary directory
	// removed on Close (tests).
	StoreDir string
	// ServerName must be unique per node in a NATS cluster.
	ServerName string
	// JetStream enables the catalog stream in the embedded server.
	JetStream bool
	// Replicas of the catalog stream: 1 alone, up to 3 in a cluster.
	Replicas int
}

// DefaultConfig is an embedded single server on loopback.
func DefaultConfig() Config {
	return Config{Host: "127.0.0.1", JetStream: true, Replicas: 1, ServerName: "boxoffice"}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Port < 0 || c.Port > 65535 || c.ClusterPort < 0 || c.ClusterPort > 65535:
		return errors.New("bus: ports must be 0..65535")
	case c.Replicas < 0 || c.Replicas > 5:
		return errors.New("bus: Replicas must be 1..5")
	case len(c.Routes) > 0 && c.ClusterPort == 0 && c.URL == "":
		return errors.New("bus: Routes need a ClusterPort")
	}
	return nil
}

// Bus is one node's connection to NATS and, when embedded, its server.
type Bus struct {
	cfg     Config
	srv     *server.Server
	nc      *nats.Conn
	js      jetstream.JetStream
	tempDir string
	once    sync.Once
}

// Open starts the embedded server when no URL is given and connects. The
// connection reconnects forever and buffers publishes while it does.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &Bus{cfg: cfg}
	url := cfg.URL
	if url == "" {
		if err := b.startServer(); err != nil {
			return nil, err
		}
		url = b.srv.ClientURL()
	}
	nc, err := nats.Connect(url, nats.Name(cfg.ServerName), nats.MaxReconnects(-1),
		nats.ReconnectWait(200*time.Millisecond), nats.ReconnectBufSize(16<<20), nats.RetryOnFailedConnect(true))
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: connect to %s: %w", url, err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	return b, nil
}

func (b *Bus) startServer() error {
	dir := b.cfg.StoreDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "boxoffice-nats-")
		if err != nil {
			return err
		}
		dir, b.tempDir = tmp, tmp
	}
	port := b.cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{ServerName: b.cfg.ServerName, Host: b.cfg.Host, Port: port, NoSigs: true, NoLog: true,
		JetStream: b.cfg.JetStream, StoreDir: dir, MaxPayload: 8 << 20}
	if b.cfg.ClusterPort > 0 {
		opts.Cluster = server.ClusterOpts{Name: "boxoffice", Host: b.cfg.Host, Port: b.cfg.ClusterPort}
		opts.Routes = server.RoutesFromStr(strings.Join(b.cfg.Routes, ","))
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("bus: embedded nats-server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("bus: embedded nats-server did not start on %s:%d (port in use? set BOXOFFICE_NATS_PORT)", b.cfg.Host, b.cfg.Port)
	}
	b.srv = s
	return nil
}

// Close drains nothing that matters (deltas are best effort, catalog
// messages are acked) and stops the embedded server. Idempotent.
func (b *Bus) Close() {
	b.once.Do(func() {
		if b.nc != nil {
			_ = b.nc.FlushTimeout(time.Second)
			b.nc.Close()
		}
		if b.srv != nil {
			b.srv.Shutdown()
			b.srv.WaitForShutdown()
		}
		if b.tempDir != "" {
			_ = os.RemoveAll(b.tempDir)
		}
	})
}

// Conn is the NATS connection, for request/reply helpers of other packages.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// ClientURL is where other processes reach this bus.
func (b *Bus) ClientURL() string {
	if b.srv != nil {
		return b.srv.ClientURL()
	}
	return b.cfg.URL
}

// SeatSubject is where an event's committed seat deltas are published.
func SeatSubject(eventID uuid.UUID) string { return "boxoffice.events." + eventID.String() + ".seats" }

// PublishSeats publishes an already-encoded delta frame.
func (b *Bus) PublishSeats(eventID uuid.UUID, frame []byte) error {
	return b.nc.Publish(SeatSubject(eventID), frame)
}

// SubscribeSeats calls fn with every frame of the event, in order, one at a
// time. The frame's memory is fn's to keep.
func (b *Bus) SubscribeSeats(eventID uuid.UUID, fn func(frame []byte)) (func(), error) {
	return b.subscribe(SeatSubject(eventID), fn)
}

func (b *Bus) subscribe(subject string, fn func([]byte)) (func(), error) {
	sub, err := b.nc.Subscribe(subject, func(m *nats.Msg) { fn(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %s: %w", subject, err)
	}
	// A hub that falls this far behind is broken anyway; below it, never drop.
	_ = sub.SetPendingLimits(1<<20, 1<<30)
	return func() { _ = sub.Unsubscribe() }, nil
}

// CountsSubject carries every event actor's periodic seat counts.
const CountsSubject = "boxoffice.counts"

// Counts is one event's seat counts at a version.
type Counts struct {
	EventID   uuid.UUID `json:"event_id"`
	Available int       `json:"available"`
	Reserved  int       `json:"reserved"`
	Booked    int       `json:"booked"`
	Version   uint64    `json:"version"`
}

// PublishCounts reports an event's counts to every node.
func (b *Bus) PublishCounts(c Counts) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return b.nc.Publish(CountsSubject, data)
}

// SubscribeCounts calls fn with every count report.
func (b *Bus) SubscribeCounts(fn func(Counts)) (func(), error) {
	return b.subscribe(CountsSubject, func(data []byte) {
		var c Counts
		if json.Unmarshal(data, &c) == nil {
			fn(c)
		}
	})
}
