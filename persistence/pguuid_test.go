package persistence

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// A uuid.UUID parameter encodes as its 16 bytes (binary) or its string
// (text), directly: no allocation, where pgx's database/sql fallback
// allocates a string, an error and a parsed copy per value.
func TestUUIDParamEncoding(t *testing.T) {
	m := pgtype.NewMap()
	registerUUID(m)
	u := uuid.MustParse("0b9e4a52-7d3c-4f7e-9a51-2f6d3c1e8b70")
	tests := []struct {
		name   string
		format int16
		value  any
		want   string
	}{
		{"binary", pgtype.BinaryFormatCode, u, string(u[:])},
		{"binary pointer", pgtype.BinaryFormatCode, &u, string(u[:])},
		{"text", pgtype.TextFormatCode, u, u.String()},
		{"binary nil pointer", pgtype.BinaryFormatCode, (*uuid.UUID)(nil), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Encode(pgtype.UUIDOID, tt.format, tt.value, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("encoded %q, want %q", got, tt.want)
			}
		})
	}
	var back uuid.UUID
	if err := m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, u[:], &back); err != nil || back != u {
		t.Fatalf("scanned %v, %v; want %v", back, err, u)
	}
	if err := m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, nil, &back); err != nil || back != u {
		t.Fatalf("scanned NULL into a uuid.UUID: %v, %v; want it left as it was (uuid.UUID.Scan does)", back, err)
	}
	var null uuid.NullUUID
	if err := m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, nil, &null); err != nil || null.Valid {
		t.Fatalf("scanned NULL into a NullUUID: %v, %v", null, err)
	}
	buf := make([]byte, 0, 64)
	var arg any = u // as pgx gets it, in its []any of arguments
	if n := testing.AllocsPerRun(100, func() {
		if _, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, arg, buf[:0]); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per binary uuid.UUID parameter, want 0 (the database/sql fallback)", n)
	}
}

// BenchmarkUUIDParam is one uuid.UUID parameter encoded as pgx sends it
// (binary), with pgx's default map and with registerUUID.
func BenchmarkUUIDParam(b *testing.B) {
	var u any = uuid.New()
	for _, reg := range []bool{false, true} {
		name := "default"
		if reg {
			name = "registered"
		}
		b.Run(name, func(b *testing.B) {
			m := pgtype.NewMap()
			if reg {
				registerUUID(m)
			}
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, u, buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
