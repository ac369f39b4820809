package persistence_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
)

// UUIDs go to PostgreSQL and back unchanged through the pool's codec: a
// parameter, NULL (which leaves the target as it was, as before the
// codec), and arrays both ways.
func TestUUIDRoundTrip(t *testing.T) {
	db := openRaw(t)
	ctx := context.Background()
	a, b := uuid.New(), uuid.New()
	var gotA, null uuid.UUID
	null = b
	var arr []uuid.UUID
	var text string
	err := db.Pool().QueryRow(ctx, `SELECT $1::uuid, NULL::uuid, ARRAY[$1, $2]::uuid[], $1::uuid::text`, a, b).Scan(&gotA, &null, &arr, &text)
	if err != nil {
		t.Fatal(err)
	}
	if gotA != a || null != b || len(arr) != 2 || arr[0] != a || arr[1] != b || text != a.String() {
		t.Fatalf("got %v, %v, %v, %q; want %v, %v (untouched), [%v %v], %q", gotA, null, arr, text, a, b, a, b, a.String())
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT cardinality($1::uuid[])`, []uuid.UUID{a, b, a}).Scan(&n); err != nil || n != 3 {
		t.Fatalf("array parameter: %d, %v", n, err)
	}
}
