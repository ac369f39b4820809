package api

import (
	"reflect"
	"testing"
)

// BenchmarkDecodeStrict measures the strict decode of a reserve body.
func BenchmarkDecodeStrict(b *testing.B) {
	body := []byte(`{"event_id":"0f5c8a52-8b5b-4d87-9c1b-3d2a9b1e7f10","ticket_ids":["1762bee8-4a2c-8449-aa34-6a4a00000000","1762bee8-4a2c-8449-aa34-6a4a00000001"]}`)
	b.ReportAllocs()
	for b.Loop() {
		var req reserveRequest
		if err := decodeStrict(body, &req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStrictScan is the scan alone, the part strict decoding adds.
func BenchmarkStrictScan(b *testing.B) {
	body := []byte(`{"event_id":"0f5c8a52-8b5b-4d87-9c1b-3d2a9b1e7f10","ticket_ids":["1762bee8-4a2c-8449-aa34-6a4a00000000","1762bee8-4a2c-8449-aa34-6a4a00000001"]}`)
	b.ReportAllocs()
	t := reflect.TypeFor[*reserveRequest]()
	for b.Loop() {
		sc := strictScanner{b: body}
		if err := sc.value(t, ""); err != nil {
			b.Fatal(err)
		}
	}
}
