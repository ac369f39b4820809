package persistence

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// registerUUID makes m encode and decode github.com/google/uuid's UUID, the
// type of every ID this package writes and reads, as the 16 bytes it is.
// pgx's uuid codec knows only [16]byte and its own types, so without this
// a uuid.UUID parameter takes the database/sql fallback: Value() formats it
// as a string, the binary encode of that string fails (fmt.Errorf builds
// the error), the string is parsed back and only then encoded; and a
// scanned one is formatted as a string for Scan to parse. That is 19
// allocations and microseconds per UUID parameter (BenchmarkUUIDParam):
// 12 µs of each release's ownership read in a profile of the node
// (docs/benchmarks.md), and most of the CPU of an event's ticket COPY
// (50,000 rows of two UUIDs for the stadium). The journal writer already
// passes pgtype.UUID where it matters.
func registerUUID(m *pgtype.Map) {
	t := &pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}}
	m.RegisterType(t)
	m.RegisterType(&pgtype.Type{Name: "_uuid", OID: pgtype.UUIDArrayOID, Codec: &pgtype.ArrayCodec{ElementType: t}})
}

// uuidCodec is pgx's UUIDCodec plus direct plans for uuid.UUID.
type uuidCodec struct{ pgtype.UUIDCodec }

func (c uuidCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(uuid.UUID); ok {
		switch format {
		case pgtype.BinaryFormatCode:
			return encodeUUIDBinary{}
		case pgtype.TextFormatCode:
			return encodeUUIDText{}
		}
	}
	return c.UUIDCodec.PlanEncode(m, oid, format, value)
}

func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*uuid.UUID); ok && format == pgtype.BinaryFormatCode {
		return scanUUIDBinary{}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

type encodeUUIDBinary struct{}

func (encodeUUIDBinary) Encode(value any, buf []byte) ([]byte, error) {
	u := value.(uuid.UUID)
	return append(buf, u[:]...), nil
}

type encodeUUIDText struct{}

func (encodeUUIDText) Encode(value any, buf []byte) ([]byte, error) {
	return append(buf, value.(uuid.UUID).String()...), nil
}

type scanUUIDBinary struct{}

func (scanUUIDBinary) Scan(src []byte, dst any) error {
	if src == nil {
		// As uuid.UUID's own Scan (the path before this codec): NULL
		// leaves the target as it is.
		return nil
	}
	if len(src) != 16 {
		return fmt.Errorf("persistence: a binary uuid is 16 bytes, got %d", len(src))
	}
	copy(dst.(*uuid.UUID)[:], src)
	return nil
}
