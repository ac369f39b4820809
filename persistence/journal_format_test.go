package persistence_test

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/google/uuid"
)

// A journal row's records decode to the entries encoded, from any version
// on; a row whose records do not match its version range is an error, not
// a replay with shifted versions.
func TestJournalRowFormat(t *testing.T) {
	t.Parallel()
	entries := []boxoffice.Entry{{Version: 5, Record: []byte("a")}, {Version: 6, Record: nil}, {Version: 7, Record: []byte("ccc")}}
	row := persistence.AppendRecords(nil, entries)
	decode := func(first, last uint64, data []byte, from uint64) ([]boxoffice.Entry, error) {
		t.Helper()
		var got []boxoffice.Entry
		err := persistence.EachRecord(first, last, data, from, func(e boxoffice.Entry) error {
			got = append(got, boxoffice.Entry{Version: e.Version, Record: append([]byte(nil), e.Record...)})
			return nil
		})
		return got, err
	}
	for _, tc := range []struct {
		name        string
		first, last uint64
		data        []byte
		from        uint64
		want        []boxoffice.Entry
		wantErr     bool
	}{
		{"all", 5, 7, row, 0, entries, false},
		{"after a snapshot inside the row", 5, 7, row, 7, entries[2:], false},
		{"all skipped", 5, 7, row, 8, nil, false},
		{"fewer records than versions", 5, 8, row, 0, nil, true},
		{"more records than versions", 5, 6, row, 0, nil, true},
		{"truncated record", 5, 7, row[:len(row)-1], 0, nil, true},
		{"truncated length", 5, 7, append(append([]byte(nil), row...), 0, 0), 0, nil, true},
		{"last before first", 7, 5, row, 0, nil, true},
	} {
		got, err := decode(tc.first, tc.last, tc.data, tc.from)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
			continue
		}
		if !tc.wantErr {
			if len(got) != len(tc.want) {
				t.Errorf("%s: %d entries, want %d", tc.name, len(got), len(tc.want))
				continue
			}
			for i := range got {
				if got[i].Version != tc.want[i].Version || string(got[i].Record) != string(tc.want[i].Record) {
					t.Errorf("%s: entry %d = %v, want %v", tc.name, i, got[i], tc.want[i])
				}
			}
		}
	}
}

// lastMigrationBefore is the newest embedded migration below v.
func lastMigrationBefore(t *testing.T, v int) uint {
	t.Helper()
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	newest := 0
	for _, f := range files {
		prefix, _, _ := strings.Cut(f.Name(), "_")
		if n, err := strconv.Atoi(prefix); err == nil && n < v && n > newest {
			newest = n
		}
	}
	return uint(newest)
}

// Migration 0500 turns a journal of one row per record into one of one row
// per commit that replays the same records, the writer appends to it, and
// its down migration splits the rows back into one per record.
func TestMigrateJournalPerCommit(t *testing.T) {
	t.Parallel()
	db := openRaw(t)
	ctx := ctxT(t)
	before := lastMigrationBefore(t, 500)
	if err := db.MigrateTo(ctx, before); err != nil {
		t.Fatal(err)
	}
	a, b := uuid.New(), uuid.New()
	old := map[uuid.UUID][]string{a: {"a1", "", "a3"}, b: {"b1"}}
	for ev, recs := range old {
		for i, r := range recs {
			if _, err := db.Pool().Exec(ctx, `INSERT INTO journal (event_id, version, epoch, record) VALUES ($1, $2, 1, $3)`,
				ev, i+1, []byte(r)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	read := func(ev uuid.UUID, after uint64) []string {
		t.Helper()
		var out []string
		if err := db.ReadJournal(ctx, ev, after, func(e boxoffice.Entry) error {
			out = append(out, strconv.FormatUint(e.Version, 10)+":"+string(e.Record))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got, want := read(a, 0), []string{"1:a1", "2:", "3:a3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("event a after the migration: %v, want %v", got, want)
	}
	if got, want := read(b, 0), []string{"1:b1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("event b after the migration: %v, want %v", got, want)
	}

	// The writer appends one row for a commit of several records.
	epoch := acquire(t, db, a, "node-a")
	w := newWriter(t, db, 0)
	if err := submit(w, boxoffice.Commit{EventID: a, Epoch: epoch, Entries: []boxoffice.Entry{
		{Version: 4, Record: []byte("a4")}, {Version: 5, Record: []byte("a5")}}}); err != nil {
		t.Fatal(err)
	}
	if got, want := read(a, 3), []string{"4:a4", "5:a5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("event a after the commit: %v, want %v", got, want)
	}
	var rows int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM journal WHERE event_id = $1`, a).Scan(&rows); err != nil || rows != 4 {
		t.Fatalf("event a has %d journal rows (%v), want 4 (three migrated, one commit)", rows, err)
	}

	if err := db.MigrateTo(ctx, before); err != nil {
		t.Fatalf("down: %v", err)
	}
	var got []string
	r, err := db.Pool().Query(ctx, `SELECT version, record FROM journal WHERE event_id = $1 ORDER BY version`, a)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var v int64
		var rec []byte
		if err := r.Scan(&v, &rec); err != nil {
			t.Fatal(err)
		}
		got = append(got, strconv.FormatInt(v, 10)+":"+string(rec))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"1:a1", "2:", "3:a3", "4:a4", "5:a5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("event a after the down migration: %v, want %v", got, want)
	}
}
