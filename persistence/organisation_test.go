package persistence_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/google/uuid"
)

// orgCatalog creates a venue, a performer and an event owned by org
// (uuid.Nil: the shared catalog).
func orgCatalog(tb testing.TB, db *persistence.DB, org uuid.UUID) (boxoffice.Venue, boxoffice.Performer, boxoffice.Event) {
	tb.Helper()
	ctx := ctxT(tb)
	v := newVenue(seatMap(1, 1, 2))
	v.OrgID = org
	v, _, err := db.CreateVenue(ctx, v)
	if err != nil {
		tb.Fatal(err)
	}
	p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: uuid.New(), Name: "Band", OrgID: org})
	if err != nil {
		tb.Fatal(err)
	}
	e := newEvent(v, p)
	e.OrgID = org
	e, _, _, err = db.CreateEvent(ctx, e)
	if err != nil {
		tb.Fatal(err)
	}
	return v, p, e
}

// Every catalog row keeps its organisation, a retry under another
// organisation is refused, and the lists show an organiser its own rows
// (and the shared venues and performers) but never another's.
func TestCatalogOrganisations(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	orgA, orgB := uuid.New(), uuid.New()
	va, pa, ea := orgCatalog(t, db, orgA)
	vb, pb, eb := orgCatalog(t, db, orgB)
	vs, ps, es := orgCatalog(t, db, uuid.Nil)

	if got, err := db.Event(ctx, ea.ID); err != nil || got.OrgID != orgA {
		t.Fatalf("event org %v (%v), want %v", got.OrgID, err, orgA)
	}
	if got, err := db.Venue(ctx, vb.ID); err != nil || got.OrgID != orgB {
		t.Fatalf("venue org %v (%v), want %v", got.OrgID, err, orgB)
	}
	if got, err := db.Performer(ctx, ps.ID); err != nil || got.OrgID != uuid.Nil {
		t.Fatalf("shared performer org %v (%v)", got.OrgID, err)
	}
	stolen := va
	stolen.OrgID = orgB
	if _, _, err := db.CreateVenue(ctx, stolen); boxoffice.ErrorCode(err) != boxoffice.EInvalid {
		t.Fatalf("retry of A's venue under B: %v, want invalid_argument", err)
	}

	type ids = map[uuid.UUID]bool
	cases := []struct {
		name                    string
		scope                   boxoffice.CatalogScope
		venues, performers, evs ids
	}{
		{"admin", boxoffice.CatalogScope{All: true},
			ids{va.ID: true, vb.ID: true, vs.ID: true}, ids{pa.ID: true, pb.ID: true, ps.ID: true}, ids{ea.ID: true, eb.ID: true, es.ID: true}},
		{"organiser A", boxoffice.CatalogScope{Org: orgA},
			ids{va.ID: true, vs.ID: true}, ids{pa.ID: true, ps.ID: true}, ids{ea.ID: true}},
		{"organiser B", boxoffice.CatalogScope{Org: orgB},
			ids{vb.ID: true, vs.ID: true}, ids{pb.ID: true, ps.ID: true}, ids{eb.ID: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Pages of one prove the cursor walks the whole list.
			got := ids{}
			after := uuid.Nil
			for {
				page, err := db.ListVenues(ctx, tc.scope, after, 1)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				got[page[0].ID], after = true, page[0].ID
			}
			if !equalIDs(got, tc.venues) {
				t.Errorf("venues %v, want %v", got, tc.venues)
			}
			ps, err := db.ListPerformers(ctx, tc.scope, uuid.Nil, 100)
			if err != nil {
				t.Fatal(err)
			}
			got = ids{}
			for _, p := range ps {
				got[p.ID] = true
			}
			if !equalIDs(got, tc.performers) {
				t.Errorf("performers %v, want %v", got, tc.performers)
			}
			es, err := db.ListEvents(ctx, tc.scope, uuid.Nil, 100)
			if err != nil {
				t.Fatal(err)
			}
			got = ids{}
			for _, e := range es {
				got[e.ID] = true
			}
			if !equalIDs(got, tc.evs) {
				t.Errorf("events %v, want %v", got, tc.evs)
			}
		})
	}

	name, city := "Renamed Hall", "Leeds"
	before, after, err := db.UpdateVenue(ctx, va.ID, boxoffice.VenuePatch{Name: &name, City: &city})
	if err != nil || before.Name != va.Name || after.Name != name || after.City != city || after.OrgID != orgA {
		t.Fatalf("UpdateVenue: %+v -> %+v, %v", before, after, err)
	}
	empty := ""
	if _, _, err := db.UpdatePerformer(ctx, pa.ID, boxoffice.PerformerPatch{Name: &empty}); boxoffice.ErrorCode(err) != boxoffice.EInvalid {
		t.Fatalf("empty performer name: %v", err)
	}
	if _, _, err := db.UpdatePerformer(ctx, uuid.New(), boxoffice.PerformerPatch{Name: &name}); boxoffice.ErrorCode(err) != boxoffice.ENotFound {
		t.Fatalf("unknown performer: %v", err)
	}
}

func equalIDs(a, b map[uuid.UUID]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// The audit log pages newest first, filters by organisation, and refuses
// every change to what it holds, whoever asks.
func TestAuditLogAppendOnly(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	orgA := uuid.New()
	actor := uuid.New()
	for i := range 5 {
		org := uuid.Nil
		if i%2 == 0 {
			org = orgA
		}
		e := boxoffice.AuditEntry{ActorID: actor, ActorRoles: []string{"organiser"}, OrgID: org,
			Action: "PATCH /admin/api/events/{eventId}", TargetType: "event", TargetID: uuid.NewString(),
			Before: json.RawMessage(`{"name":"a"}`), After: json.RawMessage(`{"name":"b"}`), RequestID: "r"}
		if err := db.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.Audit(ctx, uuid.Nil, 0, 100)
	if err != nil || len(all) != 5 {
		t.Fatalf("audit: %d entries, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("not newest first: %d after %d", all[i].ID, all[i-1].ID)
		}
	}
	if string(all[0].After) != `{"name": "b"}` && string(all[0].After) != `{"name":"b"}` {
		t.Fatalf("after = %s", all[0].After)
	}
	own, err := db.Audit(ctx, orgA, 0, 2)
	if err != nil || len(own) != 2 || own[0].OrgID != orgA || own[1].OrgID != orgA {
		t.Fatalf("org page 1: %+v, %v", own, err)
	}
	rest, err := db.Audit(ctx, orgA, own[1].ID, 2)
	if err != nil || len(rest) != 1 || rest[0].ID >= own[1].ID {
		t.Fatalf("org page 2: %+v, %v", rest, err)
	}

	for _, stmt := range []string{
		`UPDATE audit_log SET action = 'nothing happened'`,
		`UPDATE audit_log SET after = NULL WHERE id = ` + jsonNumber(all[0].ID),
		`DELETE FROM audit_log`,
		`DELETE FROM audit_log WHERE id = ` + jsonNumber(all[0].ID),
		`TRUNCATE audit_log`,
	} {
		_, err := db.Pool().Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", stmt, err)
		}
	}
	if again, err := db.Audit(ctx, uuid.Nil, 0, 100); err != nil || len(again) != 5 || string(again[0].After) != string(all[0].After) {
		t.Fatalf("the log changed: %d entries, %v", len(again), err)
	}
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

// An organisation's webhook gets its own events' notices only; an admin's
// gets every one.
func TestWebhooksFollowOrganisations(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	orgA, orgB := uuid.New(), uuid.New()
	_, _, ea := orgCatalog(t, db, orgA)
	_, _, eb := orgCatalog(t, db, orgB)
	hooks := map[string]uuid.UUID{"A": orgA, "B": orgB, "admin": uuid.Nil}
	for name, org := range hooks {
		if _, err := db.CreateWebhook(ctx, boxoffice.Webhook{ID: uuid.New(), URL: "https://example.com/" + name,
			Events: []string{boxoffice.NoticeEventCancelled}, Secret: "whsec_x", OrgID: org}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := db.Webhooks(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("webhooks: %d, %v", len(list), err)
	}
	for _, w := range list {
		if want := hooks[strings.TrimPrefix(w.URL, "https://example.com/")]; w.OrgID != want {
			t.Fatalf("%s has org %v, want %v", w.URL, w.OrgID, want)
		}
	}
	for i, tc := range []struct {
		event uuid.UUID
		want  int
	}{{ea.ID, 2}, {eb.ID, 2}, {uuid.New(), 1}} {
		body, err := json.Marshal(map[string]any{"type": boxoffice.NoticeEventCancelled, "data": map[string]any{"event_id": tc.event}})
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.EnqueueWebhooks(ctx, int64(i+1), boxoffice.NoticeEventCancelled, body)
		if err != nil || n != tc.want {
			t.Fatalf("event %d: %d deliveries (%v), want %d", i, n, err, tc.want)
		}
	}
}
