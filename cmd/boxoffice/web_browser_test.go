package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// defaultChromium is Debian's chromium package, which deploy/browser
// installs; BOXOFFICE_CHROMIUM points the tests at another binary.
const defaultChromium = "/usr/bin/chromium"

var installChromium struct {
	once sync.Once
	out  []byte
	err  error
}

// chromiumPath returns the browser to drive, installing Debian's chromium
// with deploy/browser (once per test binary) when it is missing. A machine
// that cannot get one fails the test: the web pages are part of the
// product, and a skipped browser test would hide a broken page.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("BOXOFFICE_CHROMIUM")
	if path == "" {
		path = defaultChromium
	}
	if isExecutable(path) {
		return path
	}
	installChromium.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		installChromium.out, installChromium.err = osexec.CommandContext(ctx, "../../deploy/browser", "install").CombinedOutput()
	})
	if !isExecutable(path) {
		t.Fatalf("headless Chromium is missing at %s and `deploy/browser install` could not install it (%v):\n%s\n"+
			"Install Debian's chromium package (apt-get install -y chromium) or set BOXOFFICE_CHROMIUM to a Chromium binary.",
			path, installChromium.err, installChromium.out)
	}
	return path
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// startBrowser launches one headless Chromium with a fresh profile for the
// test, with extra flags if any (the door test's fake camera); Cleanup
// closes it and waits for the process to exit.
func startBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := chromiumPath(t)
	var output syncBuffer
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		// The second browser context runs in a background window: keep its
		// timers and frames running as a visible tab's would.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.WindowSize(1400, 950),
		chromedp.CombinedOutput(&output),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	start, cancelStart := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelStart()
	go func() {
		<-start.Done()
		if start.Err() == context.DeadlineExceeded {
			cancel()
		}
	}()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v\nbrowser output:\n%s", path, err, output.String())
	}
	return ctx
}

// tab is one page in the browser, with the page's uncaught JavaScript
// errors collected so that a test can fail on them.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
	dir  string // where screenshots go

	mu     sync.Mutex
	errors []string
}

// newTab opens a tab. isolated gives it its own browser context (cookies,
// localStorage): a second browser, as far as the pages can tell.
func newTab(t *testing.T, browser context.Context, name, shots string, isolated bool) *tab {
	t.Helper()
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(browser, opts...)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("open tab %s: %v", name, err)
	}
	tb := &tab{t: t, name: name, ctx: ctx, dir: shots}
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	var wg sync.WaitGroup
	wg.Go(func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			tb.record("uncaught: " + exceptionText(ev.ExceptionDetails))
		}
	})
	wg.Go(func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				tb.record("console.error: " + consoleText(ev.Args))
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return tb
}

func (tb *tab) record(msg string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.errors = append(tb.errors, msg)
}

// pageErrors returns the page's JavaScript errors so far.
func (tb *tab) pageErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.errors...)
}

// do runs actions with a deadline; on failure it saves a screenshot and
// fails the test with the page's errors.
func (tb *tab) do(what string, within time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, within)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.fail(what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.fail("evaluate "+expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is truthy.
func (tb *tab) waitFor(what, predicate string, within time.Duration) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, within+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(within)))
	if err != nil {
		tb.fail(what, err)
	}
}

// becomes polls a JavaScript predicate for at most within and says
// whether it became truthy, for tests that act again when it does not.
func (tb *tab) becomes(predicate string, within time.Duration) bool {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, within+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(within)))
	return err == nil
}

func (tb *tab) fail(what string, err error) {
	tb.t.Helper()
	tb.screenshot("failed-" + tb.name)
	notice, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.getElementById('notice')?.textContent || ''`))
	tb.t.Fatalf("%s: %s: %v\npage notice: %q\npage errors: %v", tb.name, what, err, notice, tb.pageErrors())
}

// screenshot saves the viewport as <dir>/<name>.png.
func (tb *tab) screenshot(name string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(tb.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Errorf("save screenshot: %v", err)
	}
	return path
}

// screenshotDir is $BOXOFFICE_SCREENSHOTS when set (kept after the run),
// else the test's artifact directory (kept under -artifacts, else removed).
func screenshotDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("BOXOFFICE_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("BOXOFFICE_SCREENSHOTS: %v", err)
		}
		return dir
	}
	return t.ArtifactDir()
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "?"
	}
	msg := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		msg = d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber)
}

func consoleText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		if len(a.Value) > 0 {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

// syncBuffer collects the browser's output, written from its goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
