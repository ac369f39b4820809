package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/api"
	"github.com/boxoffice/boxoffice/api/queueroom"
	"github.com/boxoffice/boxoffice/api/web"
	"github.com/boxoffice/boxoffice/cluster"
	"github.com/boxoffice/boxoffice/cluster/bus"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/search"
)

// node is one running boxoffice process: every component wired together.
// Tests start whole nodes in-process through startNode and stop them with
// Close, exactly as `boxoffice serve` does.
type node struct {
	cfg     Config
	name    string
	log     *slog.Logger
	db      *persistence.DB
	journal *persistence.JournalWriter
	bus     *bus.Bus
	cluster *cluster.Node
	engine  *actors.Engine
	// rate is the engine's reserves per second, for the admin spread.
	rate reserveRate
	// pay is the engine's payment provider (tests count its calls).
	pay   boxoffice.PaymentProvider
	room  *queue.Room
	queue *queueroom.Handler
	index *search.Index
	api   *api.Server
	// served is api once it is serving, for goroutines started before it
	// (the catalog follower).
	served     atomic.Pointer[api.Server]
	metrics    *engineMetrics
	http       *http.Server
	debug      *http.Server // the profiler, when DebugAddr is set
	metricsSrv *http.Server // /metrics, when MetricsAddr is set
	metricsLn  net.Listener
	ln         net.Listener
	// tp traces requests (nil: tracing off); stopTracing flushes it.
	tp          trace.TracerProvider
	stopTracing func()

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	// draining is set when Drain begins: /readyz fails from then on.
	draining  atomic.Bool
	drainOnce sync.Once
	// drained is closed when Drain has finished; cmdServe then exits.
	drained chan struct{}
	// dead is closed when the cluster declared this node dead; serve exits
	// so that a supervisor restarts it clean (crash-only).
	dead <-chan struct{}
}

// startNode brings a node up in dependency order; on error it closes what
// it had started.
func startNode(ctx context.Context, cfg Config, log *slog.Logger) (n *node, err error) {
	n = &node{cfg: cfg, log: log, drained: make(chan struct{})}
	bg, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if n.name, err = nodeName(cfg); err != nil {
		return n, err
	}
	if err = os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return n, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	if n.tp, n.stopTracing, err = n.startTracing(ctx); err != nil {
		return n, err
	}
	if n.db, err = persistence.Open(ctx, persistence.Config{URL: cfg.DatabaseURL, MaxConns: 32, TracerProvider: n.tp}); err != nil {
		return n, err
	}
	if err = n.db.Migrate(ctx); err != nil {
		return n, err
	}
	if err = n.startBus(ctx); err != nil {
		return n, err
	}
	n.metrics = newEngineMetrics()
	jcfg := persistence.DefaultJournalConfig()
	jcfg.OnBatch = n.metrics.batch
	jcfg.TracerProvider = n.tp
	n.journal = persistence.NewJournalWriter(n.db, jcfg)
	if err = n.startEngine(); err != nil {
		return n, err
	}
	if err = n.startRoom(); err != nil {
		return n, err
	}
	if err = n.joinCluster(ctx); err != nil {
		return n, err
	}
	if err = n.startSearch(ctx, bg); err != nil {
		return n, err
	}
	if err = n.startAPI(ctx); err != nil {
		return n, err
	}
	if err = n.startNotices(ctx, bg); err != nil {
		return n, err
	}
	n.goBackground(func() { n.engine.RunSweeper(bg, time.Second) })
	n.goBackground(func() { n.rate.run(bg, n.engine.Reserves) })
	n.goBackground(func() { pruneOwnershipHistory(bg, n.db, n.log) })
	n.log.Info("node started", "node", n.name, "http", n.URL(), "actor", n.cluster.ActorAddr(),
		"gossip", n.cluster.GossipAddr(), "nats", n.bus.ClientURL())
	return n, nil
}

func (n *node) goBackground(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

func (n *node) startBus(ctx context.Context) error {
	bc := bus.DefaultConfig()
	bc.URL, bc.Port, bc.ClusterPort, bc.Routes = n.cfg.NATSURL, n.cfg.NATSPort, n.cfg.NATSClusterPort, n.cfg.NATSRoutes
	bc.Host = n.cfg.NATSHost
	bc.StoreDir = filepath.Join(n.cfg.DataDir, "jetstream")
	bc.ServerName = n.name
	b, err := bus.Open(ctx, bc)
	if err != nil {
		return fmt.Errorf("start NATS: %w", err)
	}
	n.bus = b
	return nil
}

// startEngine creates the seat engine (the event grain kind) with its
// payment provider; it serves once the node joins the cluster.
func (n *node) startEngine() error {
	pay, err := n.cfg.paymentProvider()
	if err != nil {
		return err
	}
	eng, err := actors.NewEngine(actors.Config{
		NodeName: n.name, HoldTTL: n.cfg.HoldTTL, SnapshotEvery: n.cfg.SnapshotEvery, MaxLinger: n.cfg.CommitLinger,
		IdleTimeout: n.cfg.IdleTimeout, MaxActive: n.cfg.MaxActiveEvents, ReconcileInterval: n.cfg.ReconcileInterval, Logger: n.log.With("component", "engine"), TracerProvider: n.tp,
		BookingsWindow: n.cfg.BookingsWindow,
	}, actors.Deps{
		Store: n.db, Journal: n.journal, Publisher: seatDeltas{n.bus}, Payments: pay, Metrics: n.metrics, Projection: n.db,
		OnCounts: func(id uuid.UUID, v uint64, c boxoffice.SeatCounts) {
			_ = n.bus.PublishCounts(bus.Counts{EventID: id, Available: c.Available, Reserved: c.Reserved, Booked: c.Booked, Version: v})
		},
	})
	if err != nil {
		return err
	}
	n.engine, n.pay = eng, pay
	return nil
}

// joinCluster joins the cluster with the grain kinds this node hosts, the
// seat engine's and the waiting room's, attaches both to it, and serves the
// admin placements view.
func (n *node) joinCluster(ctx context.Context) error {
	host, port, err := splitActorAddr(n.cfg.ActorAddr)
	if err != nil {
		return err
	}
	cc := cluster.DefaultConfig()
	cc.NodeName, cc.GossipAddr, cc.Join = n.name, n.cfg.GossipAddr, n.cfg.Join
	cc.RemoteHost, cc.RemotePort, cc.HTTPAddr = host, port, n.cfg.Addr
	if n.cfg.GossipTimings == "fast" {
		cc.Gossip = cluster.FastGossipConfig()
	}
	cc.Kinds = append(cc.Kinds, n.engine.Kind(), n.room.Kind())
	if n.cfg.Placement != "hash" {
		cc.Placement, cc.PlacementLoad = n.db.Placements(), n.cfg.PlacementLoad
	}
	cc.Logger = n.log.With("component", "cluster")
	if n.cluster, err = cluster.Start(ctx, cc); err != nil {
		return fmt.Errorf("join the cluster: %w", err)
	}
	n.engine.Attach(n.cluster.Cluster())
	n.room.Attach(n.cluster.Cluster())
	n.dead = n.cluster.Dead()
	return serveAdminPlacements(n)
}

func splitActorAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("actor-addr %q: want host:port: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("actor-addr %q: bad port", addr)
	}
	return host, port, nil
}

// startRoom creates the waiting room; its admission tokens are signed with
// a key derived from the admission secret (by default the JWT secret), so
// every node verifies them alone. It refuses a key anyone could compute.
func (n *node) startRoom() error {
	qc := queue.DefaultConfig()
	secret, err := n.cfg.admissionSecret()
	if err != nil {
		return err
	}
	qc.Key = queue.DeriveKey(secret)
	qc.Logger = n.log.With("component", "queue")
	qc.TracerProvider = n.tp
	if n.cfg.queueNow != nil {
		qc.Now = n.cfg.queueNow
	}
	room, err := queue.NewRoom(qc, queue.Deps{Store: n.db, Events: n.db, Publisher: n.bus.Conn(),
		Subscriber: queue.SubscriberFunc(func(subject string, fn func([]byte)) (func(), error) {
			sub, err := n.bus.Conn().Subscribe(subject, func(m *nats.Msg) { fn(m.Data) })
			if err != nil {
				return nil, err
			}
			return func() { _ = sub.Unsubscribe() }, nil
		})})
	if err != nil {
		return err
	}
	n.room = room
	rc := queueroom.DefaultConfig()
	rc.TrustedProxies = n.cfg.TrustedProxies
	if n.cfg.queueNow != nil {
		rc.Now = n.cfg.queueNow
	}
	h, err := queueroom.New(rc, queueroom.Deps{Room: room})
	if err != nil {
		return err
	}
	n.queue = h
	return nil
}

// startSearch opens the node's index, rebuilds it from PostgreSQL when it
// is empty, then follows the catalog stream; this node may also be the
// cluster's outbox relay (one node holds the relay lock at a time).
func (n *node) startSearch(ctx, bg context.Context) error {
	ix, err := search.Open(search.DefaultConfig(filepath.Join(n.cfg.DataDir, "index")))
	if err != nil {
		return fmt.Errorf("open search index (delete %s to rebuild it): %w", filepath.Join(n.cfg.DataDir, "index"), err)
	}
	n.index = ix
	if c, err := ix.Count(); err == nil && c == 0 {
		if err := ix.Rebuild(ctx, n.db.Listings, nil); err != nil {
			return fmt.Errorf("build search index: %w", err)
		}
	}
	// The stream needs JetStream, which in a NATS cluster needs a quorum
	// of servers and an elected leader: seconds, or longer when peers are
	// still starting. The node serves meanwhile (its index was built from
	// PostgreSQL); search catches up once the stream is there.
	n.goBackground(func() {
		for {
			err := n.bus.EnsureCatalogStream(bg)
			if err == nil {
				break
			}
			if bg.Err() != nil {
				return
			}
			n.log.Warn("catalog stream not available yet; search follows PostgreSQL changes once it is", "err", err)
		}
		n.goBackground(func() { _ = n.bus.RunRelay(bg, outboxSource{n.db}, 100*time.Millisecond) })
		n.followCatalog(bg)
	})
	unsub, err := n.bus.SubscribeCounts(func(c bus.Counts) { n.index.SetAvailability(c.EventID, c.Available, c.Version) })
	if err != nil {
		return err
	}
	n.goBackground(func() { <-bg.Done(); unsub() })
	// Grains report counts only when seats change, so idle events start
	// from the booking rows (read after subscribing: a report that arrives
	// meanwhile is newer and wins).
	avail, err := n.db.Availability(ctx)
	if err != nil {
		return fmt.Errorf("read seat availability for search: %w", err)
	}
	n.index.SeedAvailability(avail)
	return nil
}

// followCatalog applies the catalog stream to the search index until bg
// ends.
func (n *node) followCatalog(bg context.Context) {
	_ = n.bus.FollowCatalog(bg, "search-"+n.name, func(topic string, payload []byte) error {
		var l boxoffice.Listing
		if err := json.Unmarshal(payload, &l); err != nil {
			n.log.Warn("skipping a malformed catalog message", "topic", topic, "err", err)
			return nil
		}
		if a := n.served.Load(); a != nil {
			a.ForgetEvent(l.EventID) // e.g. its waiting room was switched on elsewhere
		}
		err := n.index.Apply(l)
		if boxoffice.ErrorCode(err) == boxoffice.EInvalid {
			// Redelivering a listing the index refuses would stall
			// the stream behind it forever: log it and move on.
			n.log.Warn("skipping an invalid catalog listing", "topic", topic, "event", l.EventID, "err", err)
			return nil
		}
		return err
	})
}

func (n *node) startAPI(ctx context.Context) error {
	ac := api.DefaultConfig()
	ac.Mode, ac.NodeName, ac.HoldTTL, ac.JWKSURL = n.cfg.Mode, n.name, n.cfg.HoldTTL, n.cfg.JWKSURL
	ac.JWTSecret = []byte(n.cfg.JWTSecret)
	ac.JWTIssuer, ac.JWTAudience = n.cfg.JWTIssuer, n.cfg.JWTAudience
	ac.TrustedProxies = n.cfg.TrustedProxies
	ac.WebhookAllow = n.cfg.WebhookAllow
	ac.WSMaxPerIP, ac.WSMax = n.cfg.WSMaxPerIP, n.cfg.WSMax
	ac.SeatFrameTick = n.cfg.SeatFrameTick
	ac.MetricsOnAPI = n.cfg.MetricsAddr == ""
	if n.cfg.JWKSURL != "" && (n.cfg.JWTIssuer == "" || n.cfg.JWTAudience == "") {
		n.log.Warn("a JWKS signs tokens for other applications too: set BOXOFFICE_JWT_ISSUER and BOXOFFICE_JWT_AUDIENCE so only tokens meant for boxoffice are accepted")
	}
	ac.RateIP = api.RateConfig{PerSecond: n.cfg.RateIP, Burst: max(1, int(2*n.cfg.RateIP))}
	ac.RateUser = api.RateConfig{PerSecond: n.cfg.RateUser, Burst: max(1, int(2*n.cfg.RateUser))}
	ac.Logger = n.log.With("component", "api")
	ac.LogLevel, ac.TracerProvider = n.cfg.logLevel, n.tp
	var webOpts web.Options
	if n.cfg.Payments == "stripe" {
		webOpts.StripePublishableKey = n.cfg.StripePublishableKey
		if webOpts.StripePublishableKey == "" {
			n.log.Warn("BOXOFFICE_STRIPE_PUBLISHABLE_KEY is not set: the checkout page cannot take cards (the API still can)")
		}
	}
	pages := web.NewHandler(webOpts)
	tickets, err := ticketKeys(ctx, n.cfg, n.db)
	if err != nil {
		return err
	}
	srv, err := api.New(ac, api.Deps{
		Engine: n.engine, Catalog: catalog{DB: n.db, room: n.room, log: n.log.With("component", "queue")}, Bookings: bookingsView{DB: n.db, engine: n.engine}, Users: n.db, Seats: n.bus,
		Search: searcher{n.index}, Queue: n.queue, Cluster: clusterView{n}, Ready: n.ready, Metrics: n.metrics.registry(),
		Web: pages, Rules: n.engine, PaymentWebhook: n.paymentWebhook(), Tickets: tickets,
		CheckIn:  n.engine,
		Webhooks: n.db,
		Audit:    n.db,
		Reports:  n.db, // reports
	})
	if err != nil {
		return err
	}
	n.api = srv
	n.served.Store(srv)
	if n.ln, err = net.Listen("tcp", n.cfg.Addr); err != nil {
		return fmt.Errorf("listen on %s (is another node running? set BOXOFFICE_ADDR): %w", n.cfg.Addr, err)
	}
	_ = n.cluster.SetHTTPAddr(n.URL())
	n.http = &http.Server{Handler: web.Front(srv.Handler(), pages)}
	srv.ConfigureHTTP(n.http)
	n.goBackground(func() {
		if err := n.http.Serve(n.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("HTTP server stopped", "err", err)
		}
	})
	if err := n.startMetrics(); err != nil {
		return err
	}
	return n.startDebug()
}

// startMetrics serves /metrics on cfg.MetricsAddr, if set: its own
// listener, which a firewall or a Kubernetes port keeps off the public
// side, while the API port no longer serves it.
func (n *node) startMetrics() error {
	if n.cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", n.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on %s for /metrics (set BOXOFFICE_METRICS_ADDR to a free address or empty): %w", n.cfg.MetricsAddr, err)
	}
	n.metricsLn = ln
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.api.MetricsHandler())
	n.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	n.goBackground(func() { _ = n.metricsSrv.Serve(ln) })
	return nil
}

// MetricsURL is where this node serves /metrics.
func (n *node) MetricsURL() string {
	if n.metricsLn != nil {
		return "http://" + n.metricsLn.Addr().String()
	}
	return n.URL()
}

// startDebug serves Go's profiler on cfg.DebugAddr, if set.
func (n *node) startDebug() error {
	if n.cfg.DebugAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", n.cfg.DebugAddr)
	if err != nil {
		return fmt.Errorf("listen on %s for the profiler (set BOXOFFICE_DEBUG_ADDR to a free address or empty): %w", n.cfg.DebugAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	n.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	n.log.Info("profiler listening", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	n.goBackground(func() { _ = n.debug.Serve(ln) })
	return nil
}

// ready is GET /readyz: the store answers and the cluster has members,
// and the node is not draining.
func (n *node) ready(ctx context.Context) error {
	if n.draining.Load() {
		return boxoffice.Errorf(boxoffice.EUnavailable, "the node is draining: it hands its events to other nodes and stops")
	}
	if err := n.db.Ping(ctx); err != nil {
		return boxoffice.Errorf(boxoffice.EUnavailable, "PostgreSQL is unreachable")
	}
	if !n.cluster.Joined() {
		return boxoffice.Errorf(boxoffice.EUnavailable, "not joined to the cluster yet")
	}
	return nil
}

// URL is the node's HTTP base URL.
func (n *node) URL() string {
	if n.cfg.PublicURL != "" {
		return n.cfg.PublicURL
	}
	if n.ln == nil {
		return ""
	}
	addr := n.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// startTracing is the tracer provider tests gave the node, else the one
// the OTEL_* variables configure (nil when they set no endpoint).
func (n *node) startTracing(ctx context.Context) (trace.TracerProvider, func(), error) {
	if n.cfg.tracerProvider != nil {
		return n.cfg.tracerProvider, func() {}, nil
	}
	return startTracing(ctx, n.cfg.Tracing, n.name)
}
