package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mainChild marks a copy of the test binary that is the boxoffice command
// itself (any subcommand), for scripts that take the binary's path.
const mainChild = "main"

func init() {
	if os.Getenv(childEnv) != mainChild {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "boxoffice:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestRunLocalStopsNodeBeforePostgres runs deploy/run-local (make run) with
// this binary as boxoffice, holds a seat so that an event actor has a
// passivation snapshot to write, and stops it: by SIGINT to its process
// group (Ctrl-C in a terminal) and by SIGTERM to the script alone (a
// supervisor, `kill`). Each time the node must stop first, with its
// snapshots written, and PostgreSQL after it; before, SIGTERM stopped
// PostgreSQL at once and left the node running without it (issue 13).
func TestRunLocalStopsNodeBeforePostgres(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	t.Cleanup(func() {
		_ = exec.Command(filepath.Join(root, "deploy", "localpg"), "stop", filepath.Join(data, "pg")).Run()
	})
	for _, tc := range []struct {
		name  string
		group bool
		sig   syscall.Signal
	}{
		{"Ctrl-C to the process group", true, syscall.SIGINT},
		{"SIGTERM to the script", false, syscall.SIGTERM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
			var out syncBuffer
			cmd := exec.Command(filepath.Join(root, "deploy", "run-local"), self)
			cmd.Dir = root
			cmd.Stdout, cmd.Stderr = &out, &out
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Env = append(withoutBoxoffice(os.Environ()), childEnv+"="+mainChild,
				"BOXOFFICE_DATA="+data, "BOXOFFICE_ADDR="+addr, "BOXOFFICE_GOSSIP_ADDR=127.0.0.1:0",
				"BOXOFFICE_LOG_LEVEL=info", "BOXOFFICE_RATE_IP=0", "BOXOFFICE_RATE_USER=0")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pgid := cmd.Process.Pid
			// Whatever happens, nothing this test started outlives it.
			t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()

			waitFor(t, 3*time.Minute, "the node is up", func() bool { return strings.Contains(out.String(), "Press Ctrl-C to stop.") }, exited, &out)
			holdOneSeat(t, "http://"+addr)
			if tc.group {
				_ = syscall.Kill(-pgid, tc.sig)
			} else {
				_ = cmd.Process.Signal(tc.sig)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("run-local: %v\n%s", err, out.String())
				}
			case <-time.After(2 * time.Minute):
				t.Fatalf("run-local did not exit\n%s", out.String())
			}
			log := out.String()
			if strings.Contains(log, "passivation snapshot failed") {
				t.Errorf("a passivation snapshot failed:\n%s", log)
			}
			stopped := strings.Index(log, "cluster: node stopped")
			pg := strings.Index(log, "==> stopping the local PostgreSQL")
			if stopped < 0 || pg < stopped {
				t.Errorf("want the node stopped (at %d) before PostgreSQL (at %d):\n%s", stopped, pg, log)
			}
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				t.Errorf("the node still serves %s after run-local exited:\n%s", addr, log)
			}
		})
	}
}

// waitFor polls cond until it holds, the process exits, or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool, exited <-chan error, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		select {
		case err := <-exited:
			t.Fatalf("exited before %s: %v\n%s", what, err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s\n%s", what, within, out.String())
		}
	}
}

// withoutBoxoffice drops the caller's BOXOFFICE_* settings (a database
// URL would keep run-local from starting its own PostgreSQL).
func withoutBoxoffice(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "BOXOFFICE_") {
			out = append(out, kv)
		}
	}
	return out
}

// holdOneSeat reserves a free seat of the first demo event, so that
// its event actor is active with a change to snapshot on the way down.
func holdOneSeat(t *testing.T, base string) {
	t.Helper()
	do := func(method, path, token, body string, out any) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	var tok struct {
		Token string `json:"token"`
	}
	do("POST", "/auth/token", "", `{"email":"runlocal@example.com","name":"Run Local"}`, &tok)
	var search struct {
		Results []struct {
			EventID string `json:"event_id"`
		} `json:"results"`
	}
	do("GET", "/search?q=", "", "", &search)
	if len(search.Results) == 0 {
		t.Fatal("no demo events")
	}
	ev := search.Results[0].EventID
	var view struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
			Status   string `json:"status"`
		} `json:"tickets"`
	}
	do("GET", "/events/"+ev, "", "", &view)
	for _, tk := range view.Tickets {
		if tk.Status == "available" {
			var booking map[string]any
			do("POST", "/booking/reserve", tok.Token, `{"event_id":"`+ev+`","ticket_id":"`+tk.TicketID+`"}`, &booking)
			return
		}
	}
	t.Fatal("no available seat")
}

// TestMakeRunHonoursBoxofficeData: `make run` and `make cluster` keep their
// state where BOXOFFICE_DATA says; the make variable DATA still wins, and
// .data is the default (issue 13: only DATA worked).
func TestMakeRunHonoursBoxofficeData(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is not on PATH (%v): install it (apt-get install make); `make test` and `make run` need it too", err)
	}
	root := filepath.Join("..", "..")
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"BOXOFFICE_DATA=/srv/boxoffice", nil, "BOXOFFICE_DATA=/srv/boxoffice deploy/run-local"},
		{"BOXOFFICE_DATA=/srv/boxoffice", []string{"DATA=/mnt/x"}, "BOXOFFICE_DATA=/mnt/x deploy/run-local"},
		{"", nil, "BOXOFFICE_DATA=.data deploy/run-local"},
	} {
		for _, target := range []string{"run", "cluster"} {
			cmd := exec.Command("make", append([]string{"-n", "-C", root, target}, tc.args...)...)
			cmd.Env = withoutBoxofficeData(os.Environ())
			if tc.env != "" {
				cmd.Env = append(cmd.Env, tc.env)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n %s: %v\n%s", target, err, out)
			}
			want := tc.want
			if target == "cluster" {
				want = strings.Replace(want, "deploy/run-local", "deploy/cluster", 1)
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("%s make %s %v: want %q in\n%s", tc.env, target, tc.args, want, out)
			}
		}
	}
}

func withoutBoxofficeData(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "BOXOFFICE_DATA=") && !strings.HasPrefix(kv, "DATA=") && !strings.HasPrefix(kv, "MAKEFLAGS=") {
			out = append(out, kv)
		}
	}
	return out
}
