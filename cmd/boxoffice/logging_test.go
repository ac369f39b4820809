package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice/api"
)

// TestNodeLoggerFormat: a node logs JSON unless told text (or in dev mode
// on a terminal, which a buffer is not), at the configured level, and the
// returned LevelVar changes the level at run time.
func TestNodeLoggerFormat(t *testing.T) {
	cases := []struct {
		mode     api.Mode
		format   string
		wantJSON bool
	}{
		{api.ModeProd, "auto", true},
		{api.ModeDev, "auto", true}, // not a terminal
		{api.ModeProd, "json", true},
		{api.ModeProd, "text", false},
	}
	for _, c := range cases {
		t.Run(string(c.mode)+"/"+c.format, func(t *testing.T) {
			var buf bytes.Buffer
			log, lv := newNodeLogger(&buf, Config{Mode: c.mode, LogFormat: c.format, LogLevel: "warn"})
			log.Info("hidden")
			if buf.Len() != 0 {
				t.Fatalf("info logged at level warn: %s", buf.String())
			}
			lv.Set(slog.LevelInfo)
			log.Info("shown", "k", "v")
			line := strings.TrimSpace(buf.String())
			var m map[string]any
			isJSON := json.Unmarshal([]byte(line), &m) == nil
			if isJSON != c.wantJSON {
				t.Fatalf("line %q: JSON %v, want %v", line, isJSON, c.wantJSON)
			}
			if !strings.Contains(line, "shown") {
				t.Fatalf("line %q after the level change", line)
			}
		})
	}
}
