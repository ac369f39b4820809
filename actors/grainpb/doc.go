// Package grainpb holds the protobuf messages of the event grain, generated
// from grain.proto, because Proto.Actor's remote only carries protobuf
// between nodes. Regenerate with `make proto`.
package grainpb

//go:generate protoc -I ../.. --go_out=../.. --go_opt=paths=source_relative actors/grainpb/grain.proto
