// Command boxoffice runs a node of the ticketing platform and its tools:
//
//	boxoffice serve     run a node (HTTP API, seat engine, search, waiting room)
//	boxoffice migrate   apply the database migrations and exit
//	boxoffice seed      load the demo catalog (idempotent)
//	boxoffice reindex   rebuild this node's search index from PostgreSQL
//	boxoffice token     mint a development JWT
//	boxoffice loadgen   drive a hot on-sale against a node and report rates and latencies
//	boxoffice check     audit a loadgen history against PostgreSQL for invariant violations
//
// Every command reads its settings from flags and BOXOFFICE_* variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/boxoffice/boxoffice/api"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "boxoffice:", err)
		os.Exit(1)
	}
}

// commands maps each subcommand to its entry point.
var commands = map[string]func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error{
	"serve":   cmdServe,
	"migrate": cmdMigrate,
	"seed":    cmdSeed,
	"reindex": cmdReindex,
	"token":   cmdToken,
	"loadgen": cmdLoadgen,
	"check":   cmdCheck,
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage: boxoffice <serve|migrate|seed|reindex|token|loadgen|check> [flags]\n\nRun `boxoffice <command> -h` for the flags of a command.")
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q; try `boxoffice help`", args[0])
	}
	return cmd(ctx, args[1:], getenv, stdout, stderr)
}

// newLogger writes structured text logs at the given level (info when it
// does not parse: the tools' loggers; serve checks its level at start).
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(api.LogHandler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})))
}

// newNodeLogger is the logger of `boxoffice serve`: JSON for collectors,
// or text for a person at a terminal in dev mode (LogFormat auto), at a
// level PUT /admin/api/log-level can change (the returned LevelVar), with
// every line of a request naming its request and trace ids (api.LogHandler).
func newNodeLogger(w io.Writer, cfg Config) (*slog.Logger, *slog.LevelVar) {
	lv := new(slog.LevelVar)
	var l slog.Level
	_ = l.UnmarshalText([]byte(cfg.LogLevel)) // validated by parseConfig
	lv.Set(l)
	opts := &slog.HandlerOptions{Level: lv}
	text := cfg.LogFormat == "text" || (cfg.LogFormat == "auto" && cfg.Mode == api.ModeDev && isTerminal(w))
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if text {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(api.LogHandler(h)), lv
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
