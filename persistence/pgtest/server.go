package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// server is one PostgreSQL cluster in a temp dir, run as a child process.
// Its fields are guarded by the package's mu, except pool (poolMu).
type server struct {
	root    string // temp dir: data/, postgres.log, owner.pid
	data    string
	bin     string // PostgreSQL's bin dir
	port    int
	cred    *syscall.Credential // run as postgres when we are root
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error         // cmd.Wait's result, valid once exited is closed

	poolMu sync.Mutex
	pool   *pgxpool.Pool
}

const tempPattern = "boxoffice-pgtest-"

// newServer creates the temp dir and the cluster in it with deploy/localpg.
func newServer() (*server, error) {
	sweepStale()
	script, err := localpg()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", tempPattern+"*")
	if err != nil {
		return nil, fmt.Errorf("make temp dir: %w", err)
	}
	s := &server{root: root, data: filepath.Join(root, "data")}
	// The postgres user must be able to reach data/ when we run as root.
	if err := os.Chmod(root, 0o755); err != nil {
		return s, err
	}
	if err := os.WriteFile(filepath.Join(root, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return s, err
	}
	out, err := exec.Command(script, "bindir").Output()
	if err != nil {
		return s, fmt.Errorf("%s bindir: %w%s", script, err, stderrOf(err))
	}
	s.bin = strings.TrimSpace(lastLine(string(out)))
	if out, err := exec.Command(script, "init", s.data).CombinedOutput(); err != nil {
		return s, fmt.Errorf("%s init %s: %w\n%s", script, s.data, err, out)
	}
	if os.Geteuid() == 0 {
		if s.cred, err = postgresUser(); err != nil {
			return s, err
		}
	}
	return s, nil
}

// start runs postgres and waits until it accepts connections. The first
// start picks a free port (retrying if another program takes it first);
// later ones reuse it, so URLs handed out stay valid across Stop/Start.
// Another test binary probing for a free port may hold the old one for a
// moment, so a restart retries a failed bind for a while before it gives up.
func (s *server) start(first bool) error {
	if s.running() {
		return nil
	}
	for try := 1; ; try++ {
		if first {
			p, err := freePort()
			if err != nil {
				return err
			}
			s.port = p
		}
		err := s.launch()
		if err == nil {
			return nil
		}
		if !strings.Contains(s.logTail(), "could not bind") {
			return err
		}
		switch {
		case first && try == 5:
			return err
		case !first && try == 50:
			return fmt.Errorf("port %d stayed taken by another program: %w", s.port, err)
		case !first:
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func (s *server) launch() error {
	logf, err := os.OpenFile(filepath.Join(s.root, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", s.data, "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
		"-c", "fsync=on", "-c", "synchronous_commit=on")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: s.cred,
		Setpgid:    true, // a terminal's ^C reaches us, and we stop it in order
		Pdeathsig:  syscall.SIGINT,
	}
	started := make(chan error, 1)
	s.exited = make(chan struct{})
	exited := s.exited
	go func() { // owned by the server: ends when postgres exits, which stop waits for
		// Pdeathsig fires when the thread that forked the child ends, so
		// that thread must live as long as the child does.
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			s.waitErr = cmd.Wait()
		}
		close(exited)
	}()
	if err := <-started; err != nil {
		<-exited
		return fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	s.cmd = cmd
	if err := s.waitReady(60 * time.Second); err != nil {
		_ = s.stop()
		return err
	}
	return nil
}

// waitReady polls until a connection succeeds, postgres exits, or timeout.
func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgconn.Connect(ctx, s.url("postgres"))
		cancel()
		if err == nil {
			return c.Close(context.Background())
		}
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited (%v) before accepting connections; log:\n%s", s.waitErr, s.logTail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within %v (%v); log:\n%s", timeout, err, s.logTail())
		}
	}
}

func (s *server) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop shuts postgres down: fast shutdown first, then immediate, then kill.
func (s *server) stop() error {
	s.poolMu.Lock()
	if s.pool != nil {
		s.pool.Close()
		s.pool = nil
	}
	s.poolMu.Unlock()
	if s.cmd == nil {
		return nil
	}
	defer func() { s.cmd = nil }()
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, 60 * time.Second}, {syscall.SIGQUIT, 10 * time.Second}, {syscall.SIGKILL, 10 * time.Second}} {
		_ = s.cmd.Process.Signal(step.sig)
		select {
		case <-s.exited:
			return nil
		case <-time.After(step.wait):
		}
	}
	return fmt.Errorf("postgres (pid %d) did not exit even after SIGKILL", s.cmd.Process.Pid)
}

// remove deletes the temp dir; the server must be stopped.
func (s *server) remove() {
	if s.root != "" {
		_ = os.RemoveAll(s.root)
	}
}

func (s *server) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.root, "postgres.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a 'postgres' user (deploy/localpg init creates it): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// localpg finds deploy/localpg at the root of the module that contains
// the working directory (go test runs in the package's directory), or else
// beside this source file, for a test binary run from elsewhere.
func localpg() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(mod, []byte("module github.com/boxoffice/boxoffice\n")) {
			return filepath.Join(dir, "deploy", "localpg"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		script := filepath.Join(filepath.Dir(file), "..", "..", "deploy", "localpg")
		if _, err := os.Stat(script); err == nil {
			return script, nil
		}
	}
	return "", errors.New("cannot find deploy/localpg: run the tests from inside the boxoffice module (go test ./...)")
}

// sweepStale removes temp dirs of earlier runs whose test binary died
// without cleaning up (killed, or a -timeout panic). Their postgres got
// SIGINT when the binary died; a dir whose postgres still runs is kept.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPattern+"*"))
	for _, d := range dirs {
		if fi, err := os.Stat(d); err != nil || time.Since(fi.ModTime()) < time.Minute {
			continue // maybe a run that is still setting up
		}
		if alive(filepath.Join(d, "owner.pid")) || alive(filepath.Join(d, "data", "postmaster.pid")) {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

// alive reports whether the pid on the first line of file runs; a
// missing or unreadable file counts as not running.
func alive(file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lastLine(strings.SplitN(string(b), "\n", 2)[0])))
	if err != nil || pid <= 0 {
		return false
	}
	return syscall.Kill(pid, 0) == nil || errors.Is(syscall.Kill(pid, 0), syscall.EPERM)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return "\n" + string(ee.Stderr)
	}
	return ""
}
