package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// TestAdminSpreadInTheBrowser: the admin dashboard's node table shows the
// spread of the load, each node's active event actors and its reserves per
// second with its share of the cluster's, from GET /admin/api/cluster's
// actors, reserves and reserves_per_second (issue 22).
func TestAdminSpreadInTheBrowser(t *testing.T) {
	n := startTestNode(t)
	ev := createCheckEvent(t, n)
	seats := n.ticketIDs(t, uuid.MustParse(ev))
	const reserves = 3
	for i := range reserves {
		tok := n.token(t, fmt.Sprintf("spread-%d@example.com", i))
		if code := n.call(t, http.MethodPost, "/booking/reserve", tok,
			map[string]any{"event_id": ev, "ticket_ids": []string{seats[i]}}, nil); code != http.StatusCreated {
			t.Fatalf("reserve: %d", code)
		}
	}
	var c struct {
		Nodes []struct {
			Actors            int     `json:"actors"`
			Reserves          uint64  `json:"reserves"`
			ReservesPerSecond float64 `json:"reserves_per_second"`
		} `json:"nodes"`
	}
	if code := n.call(t, http.MethodGet, "/admin/api/cluster", n.token(t, "admin@example.com", "admin"), nil, &c); code != http.StatusOK {
		t.Fatalf("GET /admin/api/cluster: %d", code)
	}
	if len(c.Nodes) != 1 || c.Nodes[0].Actors != 1 || c.Nodes[0].Reserves != reserves || c.Nodes[0].ReservesPerSecond < 0 {
		t.Fatalf("cluster nodes %+v, want one node with 1 actor and %d reserves", c.Nodes, reserves)
	}

	browser := startBrowser(t)
	admin := newTab(t, browser, "admin", screenshotDir(t), true)
	admin.do("open the dashboard", 20*time.Second, chromedp.Navigate(n.URL+"/admin/"))
	admin.do("sign in", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), "admin@example.com"),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("nodes")))
	admin.waitFor("the node's spread", fmt.Sprintf(`(() => {
		const tr = document.querySelector('#nodes tbody tr[data-node-id]');
		return !!tr && tr.dataset.actors === '1' && tr.dataset.reserves === '%d' &&
			tr.querySelector('.spread-actors').textContent === '1 (100 %%)' &&
			/^\d+\.\d( \(\d+ %%\))?$/.test(tr.querySelector('.spread-rate').textContent);
	})()`, reserves), 20*time.Second)
	admin.screenshot("spread")
}
