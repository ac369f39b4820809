// Package queuepb holds the protobuf messages of the waiting-room grain,
// generated from queue.proto, because Proto.Actor's remote only carries
// protobuf between nodes and the watermark also travels on NATS.
// Regenerate with `go generate ./actors/queuepb`.
package queuepb

//go:generate protoc -I ../.. --go_out=../.. --go_opt=paths=source_relative actors/queuepb/queue.proto
