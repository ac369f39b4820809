package main

import (
	"bytes"
	"testing"
)

// The wrk data file is a Lua chunk returning the event, every ticket and
// every token, each a quoted string on its own line, in order.
func TestEncodeWrkData(t *testing.T) {
	var b bytes.Buffer
	if err := encodeWrkData(&b, "ev-1", []string{"t-1", "t-2"}, []string{"a.b-c_d", `q"x`}); err != nil {
		t.Fatal(err)
	}
	want := "return {\nevent = \"ev-1\",\ntickets = {\n\"t-1\",\n\"t-2\",\n},\ntokens = {\n\"a.b-c_d\",\n\"q\\\"x\",\n},\n}\n"
	if got := b.String(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
