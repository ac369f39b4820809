package persistence

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/boxoffice/boxoffice"
)

// The journal stores one row per (event, commit): the versions it covers
// in first_version..last_version and the records, opaque to the store, in
// one bytea value (issue 21). Fewer, larger rows are what PostgreSQL
// writes cheaply: one heap tuple and one index entry per commit instead
// of per record. The value is the records one after another, each a 4-byte
// big-endian length and the record's bytes, a form migration 0500 can
// build from the old one-row-per-record table in plain SQL
// (int4send(octet_length(record)) || record) and that needs no knowledge of
// what a record says.

// recordsLen is the size of the encoded records of entries.
func recordsLen(entries []boxoffice.Entry) int {
	n := 0
	for _, e := range entries {
		n += 4 + len(e.Record)
	}
	return n
}

// appendRecords appends the encoded records of entries to dst.
func appendRecords(dst []byte, entries []boxoffice.Entry) []byte {
	for _, e := range entries {
		if len(e.Record) > math.MaxInt32 {
			panic("persistence: journal record over 2 GiB")
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(e.Record)))
		dst = append(dst, e.Record...)
	}
	return dst
}

// eachRecord calls fn for every record of one journal row, with versions
// first..last, skipping versions before from. The row must hold exactly
// last-first+1 records: anything else is a corrupt row, reported rather
// than replayed with versions shifted. The record passed to fn aliases
// data.
func eachRecord(first, last uint64, data []byte, from uint64, fn func(boxoffice.Entry) error) error {
	if last < first {
		return fmt.Errorf("persistence: journal row %d..%d: last version before first", first, last)
	}
	v := first
	for len(data) > 0 {
		if len(data) < 4 {
			return fmt.Errorf("persistence: journal row %d..%d: truncated length at version %d", first, last, v)
		}
		n := binary.BigEndian.Uint32(data)
		data = data[4:]
		if uint64(n) > uint64(len(data)) {
			return fmt.Errorf("persistence: journal row %d..%d: record of version %d is %d bytes, %d left", first, last, v, n, len(data))
		}
		if v > last {
			return fmt.Errorf("persistence: journal row %d..%d holds more records than versions", first, last)
		}
		if v >= from {
			if err := fn(boxoffice.Entry{Version: v, Record: data[:n:n]}); err != nil {
				return err
			}
		}
		data = data[n:]
		v++
	}
	if v != last+1 {
		return fmt.Errorf("persistence: journal row %d..%d holds %d records, want %d", first, last, v-first, last-first+1)
	}
	return nil
}
