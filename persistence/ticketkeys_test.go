package persistence_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// TestTicketKeysFirstStartRace starts "nodes" (each its own pool on one
// database) that all ask for the keyring at once on an empty table: they
// must all end up with the one key that was stored.
func TestTicketKeysFirstStartRace(t *testing.T) {
	url := pgtest.NewDB(t)
	const nodes = 6
	dbs := make([]*persistence.DB, nodes)
	for i := range dbs {
		cfg := persistence.DefaultConfig()
		cfg.URL = url
		db, err := persistence.Open(context.Background(), cfg)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(db.Close)
		dbs[i] = db
	}
	if err := dbs[0].Migrate(ctxT(t)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	kids := make([]string, nodes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			k, err := db.TicketKeys(ctxT(t))
			if err != nil {
				t.Errorf("node %d: %v", i, err)
				return
			}
			kids[i] = k.ActiveKeyID()
		}()
	}
	close(start)
	wg.Wait()
	for i, kid := range kids {
		if kid == "" || kid != kids[0] {
			t.Fatalf("node %d signs with %q, node 0 with %q", i, kid, kids[0])
		}
	}
	var n int
	if err := dbs[0].Pool().QueryRow(ctxT(t), `SELECT count(*) FROM ticket_keys`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d keys stored (%v), want 1", n, err)
	}
	// The window made certain: every node has read "no key" and inserts
	// its own; the insert-if-absent keeps the first and the keyring stays.
	for i, db := range dbs {
		if err := db.InsertTicketKeyIfAbsent(ctxT(t)); err != nil {
			t.Fatalf("node %d inserting after the first: %v", i, err)
		}
		k, err := db.TicketKeys(ctxT(t))
		if err != nil || k.ActiveKeyID() != kids[0] || len(k.PublicKeys()) != 1 {
			t.Fatalf("node %d after its insert: %v keys, active %v (%v)", i, len(k.PublicKeys()), k.ActiveKeyID(), err)
		}
	}
}

func TestTicketKeysRotate(t *testing.T) {
	db := openDB(t)
	ctx := ctxT(t)
	first, err := db.TicketKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	code, err := first.Sign(boxoffice.TicketCode{EventID: uuid.New(), BookingID: uuid.New(), Section: "A", Row: "1", Seat: 1})
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.TicketKeys(ctx)
	if err != nil || again.ActiveKeyID() != first.ActiveKeyID() {
		t.Fatalf("a second start signs with %v (%v), want the stored %s", again.ActiveKeyID(), err, first.ActiveKeyID())
	}
	if err := db.RotateTicketKey(ctx); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	rotated, err := db.TicketKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.ActiveKeyID() == first.ActiveKeyID() || len(rotated.PublicKeys()) != 2 {
		t.Fatalf("after rotation: active %s, %d keys", rotated.ActiveKeyID(), len(rotated.PublicKeys()))
	}
	if _, err := rotated.Verify(code); err != nil {
		t.Errorf("a code of the retired key: %v", err)
	}
}
