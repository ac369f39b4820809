package seatmap

import (
	"testing"
	"unsafe"
)

// TestHoldSize: priced holds (h19price) cost an unpriced hold nothing; the
// promo code sits in what was padding and ticket types live beside the
// holds.
func TestHoldSize(t *testing.T) {
	if got := unsafe.Sizeof(hold{}); got != 88 {
		t.Fatalf("a hold takes %d bytes, want 88", got)
	}
}
