package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/search"
)

// cmdServe runs a node until SIGINT/SIGTERM or a drain request (POST
// /admin/api/nodes/{name}/drain), draining it first (node.Drain), or until
// the cluster declares it dead (then it exits non-zero so a supervisor
// restarts it clean).
func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log, lv := newNodeLogger(stderr, cfg)
	cfg.logLevel = lv
	log.Info("starting boxoffice", "config", cfg.String())
	n, err := startNode(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer n.Close()
	u := n.URL()
	fmt.Fprintf(stdout, "\nboxoffice node %s is up:\n  seat map and search  %s/\n  admin dashboard      %s/admin/\n  API description      %s/openapi.yaml\n  metrics              %s/metrics\n",
		n.name, u, u, u, n.MetricsURL())
	if cfg.Mode == api.ModeDev {
		fmt.Fprintf(stdout, "  a token              curl -s -XPOST %s/auth/token -d '{\"email\":\"you@example.com\",\"name\":\"You\"}'\n", u)
		fmt.Fprint(stdout, tracesHint(cfg.Tracing))
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
		log.Info("shutting down: draining (BOXOFFICE_DRAIN_DELAY with /readyz failing, then handing events over)")
		n.Drain()
		return nil
	case <-n.drained:
		log.Info("drained on request; stopping")
		return nil
	case <-n.dead:
		return errors.New("the cluster declared this node dead; exiting so it restarts with a new identity")
	}
}

// dbConfig parses the flags every database command shares.
func dbFlags(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("database-url", getenv("BOXOFFICE_DATABASE_URL"), "PostgreSQL URL (BOXOFFICE_DATABASE_URL)")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if *url == "" {
		return "", errors.New("no database: set BOXOFFICE_DATABASE_URL (or use `make run`, which starts a local PostgreSQL)")
	}
	return *url, nil
}

// openDBFlags parses the database flags (dbFlags) and opens the migrated
// database: the start of every command that works on PostgreSQL through
// persistence.
func openDBFlags(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (*persistence.DB, error) {
	url, err := dbFlags(name, args, getenv, stderr, extra)
	if err != nil {
		return nil, err
	}
	return openDB(ctx, url)
}

func openDB(ctx context.Context, url string) (*persistence.DB, error) {
	db, err := persistence.Open(ctx, persistence.Config{URL: url, MaxConns: 8})
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// cmdMigrate applies the migrations (safe to run from several nodes at once).
func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	db, err := openDBFlags(ctx, "migrate", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	db.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

// cmdReindex rebuilds this node's search index from PostgreSQL, with progress.
func cmdReindex(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dataDir string
	db, err := openDBFlags(ctx, "reindex", args, getenv, stderr, func(fs *flag.FlagSet) {
		def := getenv("BOXOFFICE_DATA_DIR")
		if def == "" {
			def = ".data/node"
		}
		fs.StringVar(&dataDir, "data-dir", def, "the node's data dir (BOXOFFICE_DATA_DIR); stop the node first")
	})
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	ix, err := search.Rebuild(ctx, search.DefaultConfig(filepath.Join(dataDir, "index")), db.Listings, func(done int) {
		fmt.Fprintf(stderr, "\rindexed %d events", done)
	})
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer ix.Close()
	c, _ := ix.Count()
	fmt.Fprintf(stdout, "\nindex rebuilt: %d events in %s\n", c, time.Since(start).Round(time.Millisecond))
	return nil
}

// cmdToken mints a development JWT signed with BOXOFFICE_JWT_SECRET.
func cmdToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	secret := fs.String("jwt-secret", getenv("BOXOFFICE_JWT_SECRET"), "HS256 secret the node verifies with (BOXOFFICE_JWT_SECRET)")
	email := fs.String("email", "dev@example.com", "the user's email; the same email is always the same user")
	name := fs.String("name", "Developer", "the user's name")
	roles := fs.String("roles", "", "comma-separated roles, e.g. admin")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	issuer := fs.String("jwt-issuer", getenv("BOXOFFICE_JWT_ISSUER"), "iss claim, when the node expects one (BOXOFFICE_JWT_ISSUER)")
	audience := fs.String("jwt-audience", getenv("BOXOFFICE_JWT_AUDIENCE"), "aud claim, when the node expects one (BOXOFFICE_JWT_AUDIENCE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		return errors.New("set BOXOFFICE_JWT_SECRET (or -jwt-secret) to the node's secret")
	}
	u := boxoffice.User{ID: api.DevUserID(*email), Email: strings.ToLower(*email), Name: *name, Roles: splitList(*roles)}
	tok, err := api.MintTokenFor([]byte(*secret), u, *ttl, *issuer, *audience)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
