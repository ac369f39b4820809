package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// writeWrkData is `boxoffice loadgen -wrk-data FILE`: it signs in -users
// development users and writes them, the event and its ticket IDs as a Lua
// table to FILE, for deploy/bench/reserve.lua. A lean generator (wrk) then
// drives the same authenticated reserves as loadgen without spending its
// own CPU on sign-ins or JSON, so that the node's cost per request can be
// told apart from the generator's (`make bench-http`).
func writeWrkData(ctx context.Context, c loadConfig, path string) error {
	client := &http.Client{Timeout: 15 * time.Second}
	tickets, err := eventTickets(ctx, client, c.URLs[0], c.Event)
	if err != nil {
		return err
	}
	tokens := make([]string, c.Users)
	for i := range tokens {
		// One account per wrk connection, named apart from loadgen's users
		// so that both generators can drive one node in turn.
		email := fmt.Sprintf("wrk-%d-%.8s@example.com", i, c.Event)
		if tokens[i], err = devToken(ctx, client, c.URLs[0], email); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := encodeWrkData(f, c.Event, tickets, tokens); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// encodeWrkData writes `return {event = "...", tickets = {...}, tokens =
// {...}}`, which the Lua script loads with dofile. IDs and tokens are
// quoted with strconv.Quote: a Lua string accepts its escapes for the
// characters these can hold (UUIDs, base64url and dots).
func encodeWrkData(w io.Writer, event string, tickets, tokens []string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "return {\nevent = %s,\ntickets = {\n", strconv.Quote(event))
	for _, t := range tickets {
		fmt.Fprintf(bw, "%s,\n", strconv.Quote(t))
	}
	bw.WriteString("},\ntokens = {\n")
	for _, t := range tokens {
		fmt.Fprintf(bw, "%s,\n", strconv.Quote(t))
	}
	bw.WriteString("},\n}\n")
	return bw.Flush()
}
