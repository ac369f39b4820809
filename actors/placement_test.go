package actors_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
	"github.com/boxoffice/boxoffice/cluster/clustertest"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// startPlacedNode is startMember with the bounded-load placement, whose
// record every member of agent shares in db.
func startPlacedNode(t *testing.T, db *persistence.DB, agent *test.InMemAgent, name string) *node {
	t.Helper()
	n := &node{pay: devpay.New(), pub: newRecorder()}
	n.jw = persistence.NewJournalWriter(db, persistence.DefaultJournalConfig())
	eng, err := actors.NewEngine(actors.Config{NodeName: name, Logger: clustertest.Quiet()},
		actors.Deps{Store: db, Journal: n.jw, Publisher: n.pub, Payments: n.pay})
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	n.eng = eng
	n.cluster = clustertest.StartPlacedMember(t, "boxoffice-test", agent, db.Placements(), eng.Kind())
	eng.Attach(n.cluster)
	t.Cleanup(n.stop)
	return n
}

// With the bounded-load placement, the sweeper's ownership (Engine.Owns)
// names the node an event's actor actually runs on: the shared placement
// record, not the library's rendezvous hash, which the sweeper used before.
func TestSweepOwnershipFollowsBoundedPlacement(t *testing.T) {
	db := dbtest.OpenDB(t, pgtest.NewDB(t))
	agent := test.NewInMemAgent()
	a, b := startPlacedNode(t, db, agent, "a"), startPlacedNode(t, db, agent, "b")
	require.Eventually(t, func() bool {
		return a.cluster.MemberList.Members().Len() == 2 && b.cluster.MemberList.Members().Len() == 2
	}, 10*time.Second, 20*time.Millisecond, "both members see each other")
	events := make([]uuid.UUID, 12)
	for i := range events {
		events[i] = createEvent(t, db, venue200())
	}
	// Not active yet: exactly one node would wake each.
	for _, id := range events {
		if a.eng.Owns(id) == b.eng.Owns(id) {
			t.Fatalf("event %s: a owns %v, b owns %v; want exactly one", id, a.eng.Owns(id), b.eng.Owns(id))
		}
	}
	for i, id := range events {
		via := a
		if i%2 == 1 {
			via = b
		}
		if err := via.eng.Touch(context.Background(), id); err != nil {
			t.Fatalf("touch %s: %v", id, err)
		}
	}
	for _, id := range events {
		inA, inB := slices.Contains(a.eng.Active(), id), slices.Contains(b.eng.Active(), id)
		if inA == inB {
			t.Fatalf("event %s active on a: %v, b: %v; want exactly one", id, inA, inB)
		}
		if a.eng.Owns(id) != inA || b.eng.Owns(id) != inB {
			t.Errorf("event %s runs on a: %v, b: %v, but a owns it: %v, b: %v", id, inA, inB, a.eng.Owns(id), b.eng.Owns(id))
		}
	}
	if na, nb := len(a.eng.Active()), len(b.eng.Active()); max(na, nb) > 7 { // ceil(1.15 x 6)
		t.Errorf("placed %d / %d, want at most 7 on either", na, nb)
	}
	// Graceful stops sleep about two seconds each: overlap them.
	var wg sync.WaitGroup
	wg.Go(a.stop)
	wg.Go(b.stop)
	wg.Wait()
}
