package api

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestCursorRoundTrip: a cursor gives back its key, to the microsecond.
func TestCursorRoundTrip(t *testing.T) {
	for _, k := range []pageKey{
		{at: time.Date(2026, 7, 1, 12, 0, 0, 123456000, time.UTC), id: uuid.New()},
		{at: time.Unix(0, 1000).UTC(), id: uuid.Nil},
		{at: cursorTimeMax, id: uuid.Max},
	} {
		got, err := parseCursor(k.cursor())
		if err != nil || !got.at.Equal(k.at) || got.id != k.id {
			t.Errorf("parseCursor(%+v.cursor()) = %+v, %v", k, got, err)
		}
	}
}

// TestForgedCursorTimes: a cursor with a valid check but a time the store
// cannot represent (crafted by someone who read this code) is 400, so it
// never reaches PostgreSQL as an out-of-range timestamp (a 5xx).
func TestForgedCursorTimes(t *testing.T) {
	for _, micros := range []int64{0, -1, -62135596800000000, cursorTimeMax.UnixMicro() + 1, 1<<63 - 1} {
		b := []byte{cursorVersion}
		b = binary.BigEndian.AppendUint64(b, uint64(micros))
		id := uuid.New()
		b = append(b, id[:]...)
		b = append(b, cursorCheck(b)...)
		_, err := parseCursor(base64.RawURLEncoding.EncodeToString(b))
		var e *boxoffice.Error
		if !errors.As(err, &e) || e.Code != boxoffice.EInvalid {
			t.Errorf("time %d µs: err %v, want invalid_argument", micros, err)
		}
	}
}
