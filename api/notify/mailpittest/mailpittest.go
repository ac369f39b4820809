// Package mailpittest runs a real SMTP server for tests: mailpit (a tool
// of this module, `go tool mailpit`) on random loopback ports, read back
// through its HTTP API. Gate puts a switch in front of it, so a test can
// make the SMTP server hang and come back without touching its port.
package mailpittest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running mailpit.
type Server struct {
	// SMTPAddr is host:port of its SMTP listener; APIURL the base of its
	// HTTP API (http://host:port).
	SMTPAddr string
	APIURL   string
	cmd      *exec.Cmd
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds mailpit once per test process (go tool -n builds and
// caches it, then prints its path).
func binary() (string, error) {
	binOnce.Do(func() {
		out, err := exec.Command("go", "tool", "-n", "mailpit").Output()
		if err != nil {
			binErr = fmt.Errorf("mailpittest: go tool -n mailpit: %w", err)
			return
		}
		binPath = strings.TrimSpace(string(out))
	})
	return binPath, binErr
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs mailpit until tb ends; it fails tb if mailpit cannot run.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binary()
	if err != nil {
		tb.Fatal(err)
	}
	var last error
	for range 5 { // a port picked free can be taken before mailpit binds it
		s := &Server{SMTPAddr: freeAddr(tb)}
		httpAddr := freeAddr(tb)
		s.APIURL = "http://" + httpAddr
		var logs bytes.Buffer
		s.cmd = exec.Command(bin, "--smtp", s.SMTPAddr, "--listen", httpAddr, "--quiet",
			"--database", filepath.Join(tb.TempDir(), "mailpit.db"), "--disable-version-check",
			"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--smtp-disable-rdns")
		s.cmd.Stdout, s.cmd.Stderr = &logs, &logs
		if err := s.cmd.Start(); err != nil {
			tb.Fatalf("mailpittest: start: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- s.cmd.Wait() }()
		if err := s.waitReady(exited); err != nil {
			_ = s.cmd.Process.Kill()
			last = fmt.Errorf("%w\n%s", err, logs.String())
			continue
		}
		tb.Cleanup(func() {
			_ = s.cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = s.cmd.Process.Kill()
				<-exited
			}
		})
		return s
	}
	tb.Fatalf("mailpittest: mailpit did not start: %v", last)
	return nil
}

// waitReady polls the API and the SMTP port until both answer.
func (s *Server) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("mailpit exited: %v", err)
		default:
		}
		resp, err := http.Get(s.APIURL + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if c, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second); err == nil {
				c.Close()
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mailpit not ready on %s / %s", s.SMTPAddr, s.APIURL)
}

// Address is one mailbox of a message.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is a message in the list.
type Summary struct {
	ID          string    `json:"ID"`
	Subject     string    `json:"Subject"`
	From        Address   `json:"From"`
	To          []Address `json:"To"`
	Attachments int       `json:"Attachments"`
}

// Attachment is one attached part of a message.
type Attachment struct {
	PartID      string `json:"PartID"`
	FileName    string `json:"FileName"`
	ContentType string `json:"ContentType"`
	Size        int    `json:"Size"`
}

// Message is one message in full.
type Message struct {
	ID          string       `json:"ID"`
	Subject     string       `json:"Subject"`
	To          []Address    `json:"To"`
	Text        string       `json:"Text"`
	Attachments []Attachment `json:"Attachments"`
}

func (s *Server) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.APIURL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mailpittest: GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b, nil
}

// Messages lists the messages received, newest first.
func (s *Server) Messages(ctx context.Context) ([]Summary, error) {
	b, err := s.get(ctx, "/api/v1/messages")
	if err != nil {
		return nil, err
	}
	var out struct {
		Messages []Summary `json:"messages"`
	}
	return out.Messages, json.Unmarshal(b, &out)
}

// Message reads one message.
func (s *Server) Message(ctx context.Context, id string) (Message, error) {
	b, err := s.get(ctx, "/api/v1/message/"+id)
	if err != nil {
		return Message{}, err
	}
	var m Message
	return m, json.Unmarshal(b, &m)
}

// Part reads one part (an attachment) of a message, decoded.
func (s *Server) Part(ctx context.Context, id, partID string) ([]byte, error) {
	return s.get(ctx, "/api/v1/message/"+id+"/part/"+partID)
}

// WaitMessages waits until at least n messages arrived, failing tb after
// a minute.
func (s *Server) WaitMessages(tb testing.TB, n int) []Summary {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ms, err := s.Messages(context.Background())
		if err == nil && len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mailpittest: %d messages (%v), want %d", len(ms), err, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
