package cluster

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// floorHandler drops records below min. Proto.Actor and memberlist log every
// topology change, retry and dead letter at info; this package logs the
// membership changes that matter itself, so the libraries only speak up for
// warnings unless Config.LibraryLogLevel says otherwise.
type floorHandler struct {
	slog.Handler
	min slog.Level
}

func (h floorHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h floorHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return floorHandler{h.Handler.WithAttrs(attrs), h.min}
}

func (h floorHandler) WithGroup(name string) slog.Handler {
	return floorHandler{h.Handler.WithGroup(name), h.min}
}

// libraryLogger returns the logger handed to a library: the node's handler,
// floored at min and tagged with the library's name.
func libraryLogger(base *slog.Logger, min slog.Level, lib string) *slog.Logger {
	return slog.New(floorHandler{base.Handler(), min}).With("lib", lib)
}

// memberlistLog turns memberlist's "[WARN] memberlist: text" lines into slog
// records and tells the node when memberlist refutes a rumour about it: that
// is the only way memberlist reveals that peers suspected this node or
// declared it dead.
type memberlistLog struct {
	log      *slog.Logger
	onRefute func(dead bool)
}

// newMemberlistLogger returns the *log.Logger memberlist and its transport
// print to. memberlist prints one line per Write.
func newMemberlistLogger(w *memberlistLog) *log.Logger { return log.New(w, "", 0) }

func (w *memberlistLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	level, msg := slog.LevelInfo, line
	for _, lv := range []struct {
		tag   string
		level slog.Level
	}{{"[DEBUG]", slog.LevelDebug}, {"[INFO]", slog.LevelInfo}, {"[WARN]", slog.LevelWarn}, {"[ERR]", slog.LevelError}, {"[ERROR]", slog.LevelError}} {
		if rest, ok := strings.CutPrefix(line, lv.tag); ok {
			level, msg = lv.level, strings.TrimSpace(rest)
			break
		}
	}
	msg = strings.TrimPrefix(msg, "memberlist: ")
	switch {
	case strings.HasPrefix(msg, "Refuting a dead message"):
		w.onRefute(true)
	case strings.HasPrefix(msg, "Refuting a suspect message"):
		w.onRefute(false)
	}
	w.log.Log(context.Background(), level, msg)
	return len(p), nil
}
