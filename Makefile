# boxoffice: the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       := bin/boxoffice
# DATA is where make run and make cluster keep PostgreSQL and the nodes'
# state: BOXOFFICE_DATA from the environment, else .data.
DATA      ?= $(or $(BOXOFFICE_DATA),.data)
BENCHTIME ?= 1s
FUZZTIME  ?= 30s
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all build run test test-go deps bench lint fuzz proto chaos cluster clean soak spread bench-fanout bench-seatpage memory failover-many rolling bench-http

all: build

build:
	$(GO) build -o $(BIN) ./cmd/boxoffice

# run: a local PostgreSQL in $(DATA)/pg unless BOXOFFICE_DATABASE_URL is set,
# an embedded NATS, migrations, demo data (once), then the node on :8080.
run: deps build
	BOXOFFICE_DATA=$(DATA) deploy/run-local $(BIN)

# cluster: N nodes on loopback (HTTP 8080.., node 0 the gossip and NATS
# seed), one local PostgreSQL in $(DATA)/cluster/pg; Ctrl-C stops them all.
N ?= 3
cluster: deps build
	BOXOFFICE_DATA=$(DATA) deploy/cluster $(N) $(BIN)

# test: the whole suite; every package that needs PostgreSQL starts its own.
test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

# deps installs what the suite and `make run` need and the machine lacks
# (PostgreSQL, Chromium for the web page tests, and systemd-analyze for the
# unit check, via apt-get; Redocly's CLI for `make lint`, pinned, via npm into
# bin/redocly); it changes nothing when all is present. It also builds
# stripe-mock (a go.mod tool) once, so that the Stripe tests do not compile it
# inside their run.
deps:
	deploy/localpg install
	deploy/browser install
	deploy/systemd/analyze install
	deploy/redocly install
	$(GO) tool -n stripe-mock >/dev/null

# chaos: TestChaos for CHAOS (default 5m): 3 nodes (child processes) under
# loadgen, one killed -9 and restarted every 10 s, PostgreSQL restarted
# once, then `boxoffice check`; it logs the share of 503s and the recovery
# time of each fault. `make test` runs the same test for 30 s with two kills.
CHAOS ?= 5m
chaos: deps
	BOXOFFICE_CHAOS_DURATION=$(CHAOS) $(GO) test -count=1 -timeout 20m -run '^TestChaos$$' -v ./cmd/boxoffice/

# soak: TestSoak for SOAK (default 30m): one node (child process) under a
# steady, paced reserve/release/confirm mix of many users; the node's heap,
# RSS and goroutines sampled every SOAK_EVERY and printed as a table (also
# written to SOAK_OUT if set). Not part of `make test` (skipped there).
SOAK       ?= 30m
SOAK_EVERY ?= 30s
SOAK_OUT   ?=
soak: deps
	BOXOFFICE_SOAK=$(SOAK) BOXOFFICE_SOAK_EVERY=$(SOAK_EVERY) BOXOFFICE_SOAK_OUT=$(SOAK_OUT) \
		$(GO) test -count=1 -timeout 3h -run '^TestSoak$$' -v ./cmd/boxoffice/

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

fuzz:
	deploy/fuzz-all $(FUZZTIME)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...
	deploy/redocly lint

proto:
	cd actors/grainpb && PATH="$$PATH:$$($(GO) env GOPATH)/bin" $(GO) generate ./...

clean:
	rm -rf bin

# spread (h22place): the long placement-spread measurement. Three nodes as
# child processes (as `make cluster N=3`), SPREAD_EVENTS active events
# (default 300); prints events per node, then kills -9 the busiest, restarts
# it and prints how many events it pulled back. The short version,
# ./cluster's TestPlacementSpread, runs in `make test`.
SPREAD_EVENTS ?= 300
spread: deps
	BOXOFFICE_SPREAD_EVENTS=$(SPREAD_EVENTS) $(GO) test -count=1 -timeout 15m -run '^TestSpreadProcs$$' -v ./cmd/boxoffice/

# bench-fanout (h20fan): the seat-map fan-out and connect-storm runs of
# docs/benchmarks.md against a node already running on $(URL) (`make run`
# with BOXOFFICE_WS_MAX_PER_IP=0 BOXOFFICE_WS_MAX=0). WATCHERS=20000 needs
# `ulimit -n` above 20,000 for both the node and this load generator.
WATCHERS ?= 10000
URL ?= http://127.0.0.1:8080
bench-fanout: build
	$(BIN) loadgen -url $(URL) -mode ws -users $(WATCHERS) -compact -interval 50ms -duration 10s
	$(BIN) loadgen -url $(URL) -mode ws -users $(WATCHERS) -interval 50ms -duration 10s
	$(BIN) loadgen -url $(URL) -mode storm -users $(WATCHERS) -compact -duration 10s
	$(BIN) loadgen -url $(URL) -mode storm -users $(WATCHERS) -compact -deflate -duration 10s

# bench-seatpage (h20fan): the stadium page's timings in headless Chromium
# (navigation to map drawn and to live; first visit and layout cached),
# ROUNDS rounds, logged by TestStadiumPageTimings; not part of make test.
ROUNDS ?= 5
bench-seatpage: deps
	BOXOFFICE_SEATPAGE_ROUNDS=$(ROUNDS) $(GO) test -count=1 -run '^TestStadiumPageTimings$$' -v -timeout 20m ./cmd/boxoffice

# memory: TestMemoryPerEvent for MEM_EVENTS (default 1000,10000): N small
# events on one node, each activated by one hold, then all passivated; logs
# heap and RSS per active and per passivated event (docs/benchmarks.md).
# Not part of `make test` (skipped there).
MEM_EVENTS ?= 1000,10000
memory: deps
	BOXOFFICE_MEM_EVENTS=$(MEM_EVENTS) $(GO) test -count=1 -timeout 20m -run '^TestMemoryPerEvent$$' -v ./actors/

# failover-many: TestFailoverManyEvents for FAILOVER_EVENTS (default 9000,
# about 3,000 active events a node): 3 nodes (child processes), every event
# activated by a hold, the busiest node killed -9; logs the p50/p99/max time
# from the kill to each of its events' first acknowledged write on the
# survivors. Not part of `make test` (skipped there).
FAILOVER_EVENTS ?= 9000
failover-many: deps
	BOXOFFICE_FAILOVER_EVENTS=$(FAILOVER_EVENTS) $(GO) test -count=1 -timeout 30m -run '^TestFailoverManyEvents$$' -v ./cmd/boxoffice/

# rolling: TestRollingRestart for ROLLING (default 3m): three nodes (child
# processes) restarted one after another with SIGTERM (each drains: /readyz
# fails, its events move to the others, its sockets are told 1012, it exits
# 0 and starts again) under readiness-aware loadgen users; it must end with
# 0 errors (no 503, no request without a reply) and `boxoffice check` clean.
# `make test` runs the short version (one restart).
ROLLING ?= 3m
rolling: deps
	BOXOFFICE_ROLLING_DURATION=$(ROLLING) $(GO) test -count=1 -timeout 30m -run '^TestRollingRestart$$' -v ./cmd/boxoffice/

# bench-http: one node as `make run` starts it (rate limits off, profiler
# on, its own fresh PostgreSQL), driven STEP (default 20s) by `boxoffice
# loadgen` and then by wrk (deploy/bench/reserve.lua: authenticated reserves,
# each hold released); prints requests/s, p50/p99, the generator's CPU and
# the node's and PostgreSQL's CPU per request, and the node's CPU profile
# split by part of the request path (deploy/bench/breakdown). MODE=hold:
# reserves only (holds expire after HOLD_TTL, default 3s); CONNS (64),
# THREADS (2). wrk is installed with apt-get when missing. Not part of
# `make test`.
bench-http: build
	deploy/localpg install
	deploy/bench/http run $(BIN)
