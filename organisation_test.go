package boxoffice_test

import (
	"net/netip"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

func TestWebhookAddrsPermits(t *testing.T) {
	loop := boxoffice.WebhookAddrs{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	cases := []struct {
		addr   string
		policy boxoffice.WebhookAddrs
		want   bool
	}{
		{"93.184.216.34", boxoffice.WebhookAddrs{}, true},
		{"2606:2800:220:1::1", boxoffice.WebhookAddrs{}, true},
		{"127.0.0.1", boxoffice.WebhookAddrs{}, false},
		{"127.0.0.1", loop, true},
		{"::1", loop, false},
		{"10.0.0.1", boxoffice.WebhookAddrs{}, false},
		{"172.16.5.4", boxoffice.WebhookAddrs{}, false},
		{"192.168.1.1", boxoffice.WebhookAddrs{}, false},
		{"169.254.169.254", boxoffice.WebhookAddrs{}, false},
		{"100.64.1.1", boxoffice.WebhookAddrs{}, false},
		{"0.0.0.0", boxoffice.WebhookAddrs{}, false},
		{"fd00::1", boxoffice.WebhookAddrs{}, false},
		{"fe80::1", boxoffice.WebhookAddrs{}, false},
		{"::ffff:10.0.0.1", boxoffice.WebhookAddrs{}, false},
		{"::ffff:127.0.0.1", loop, true},
		{"224.0.0.1", boxoffice.WebhookAddrs{}, false},
	}
	for _, c := range cases {
		if got := c.policy.Permits(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("Permits(%s) with %v = %v, want %v", c.addr, c.policy.Allow, got, c.want)
		}
	}
}

func TestOrganiserRuns(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	org := boxoffice.User{Roles: []string{boxoffice.RoleOrganiser}, OrgID: a}
	admin := boxoffice.User{Roles: []string{"admin"}}
	noOrg := boxoffice.User{Roles: []string{boxoffice.RoleOrganiser}}
	cases := []struct {
		name      string
		u         boxoffice.User
		target    uuid.UUID
		runs, use bool
	}{
		{"organiser own", org, a, true, true},
		{"organiser other", org, b, false, false},
		{"organiser shared", org, uuid.Nil, false, true},
		{"admin other", admin, b, true, true},
		{"admin shared", admin, uuid.Nil, true, true},
		{"organiser without org_id", noOrg, uuid.Nil, false, false},
	}
	for _, c := range cases {
		if got := c.u.Runs(c.target); got != c.runs {
			t.Errorf("%s: Runs = %v", c.name, got)
		}
		if got := c.u.MayUse(c.target); got != c.use {
			t.Errorf("%s: MayUse = %v", c.name, got)
		}
	}
	if noOrg.MayManage() {
		t.Error("an organiser token without org_id may manage")
	}
}
