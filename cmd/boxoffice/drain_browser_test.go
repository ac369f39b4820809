package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDrainNodeInTheBrowser: in headless Chromium, "Drain this node" on the
// admin dashboard's cluster table (two clicks) drains the node: its
// /readyz fails, its row says draining, and the drain completes.
func TestDrainNodeInTheBrowser(t *testing.T) {
	n := startTestNode(t)
	shots := screenshotDir(t)
	browser := startBrowser(t)
	admin := newTab(t, browser, "admin", shots, true)
	admin.do("open the dashboard", 20*time.Second, chromedp.Navigate(n.URL+"/admin/"))
	admin.do("sign in", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "admin@example.com"),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("dashboard")))
	row := `#nodes tr[data-node-id="` + n.name + `"]`
	admin.waitFor("the node's drain button", `!!document.querySelector('`+row+` button.drain')`, 10*time.Second)
	admin.do("drain the node", 10*time.Second, chromedp.Click(chromedp.CSS(row+` button.drain`)))
	admin.waitFor("the drain asks again", `document.querySelector('`+row+` button.drain')?.dataset.armed === 'true'`, 10*time.Second)
	if n.draining.Load() {
		t.Fatal("the node drains after one click, want two")
	}
	admin.do("confirm the drain", 10*time.Second, chromedp.Click(chromedp.CSS(row+` button.drain`)))
	admin.waitFor("the row says draining", `!!document.querySelector('`+row+` .badge.draining')`, 20*time.Second)
	admin.screenshot("draining")
	t.Logf("draining shown at %s", time.Now().Format(time.StampMilli))
	select {
	case <-n.drained:
	case <-time.After(60 * time.Second):
		t.Fatal("the drain did not finish within 60s")
	}
	t.Logf("drained at %s", time.Now().Format(time.StampMilli))
	resp, err := http.Get(n.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz after the drain: %d, want 503", resp.StatusCode)
	}
	if errs := admin.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}
