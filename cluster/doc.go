// Package cluster runs a boxoffice node as a member of the Proto.Actor
// cluster, with hashicorp/memberlist gossip for membership, and gives the node
// its identity.
//
// Proto.Actor places each grain (for example the actor of one event) on one
// member; any member can send to any grain. With Config.Placement set, the
// bounded-load lookup of placement.go places it: the first member in
// rendezvous order (SHA-256 of member and identity) holding fewer than
// ceil(1.15 x mean) grains of the kind, recorded in a store every member
// shares, and kept there while the grain is active. Without it, the
// library's disthash lookup places by plain rendezvous hashing of the
// identity, which is uneven and moves grains back to a restarted member. The library has no gossip-based
// membership provider, so this package supplies one: every member gossips a
// small JSON record (stable node name, Proto.Actor address, HTTP address,
// start time, grain kinds) and hands memberlist's live member set to
// Proto.Actor, which re-places grains when members come or go.
//
// Identity. A node has two names. Config.NodeName is the stable, human name
// (BOXOFFICE_NODE_ID) that admin pages, logs and metrics use; it survives
// restarts. The member id (Node.MemberID) is Proto.Actor's actor-system id,
// new on every start: Proto.Actor blocks the id of every member that left,
// forever, so a restarted process must come back under a new one. memberlist
// runs under the member id too; the node name travels in the metadata.
// NameOf maps a grain PID's address back to the node name.
//
// Failures. A node that stops answering gossip is declared dead within a few
// probe intervals, and dropped from placement Gossip.DeadGrace later (a
// grace that lets wrongly accused nodes refute first); its grains are
// re-activated on the survivors at their next request, from the database. Grain state must
// therefore be durable before a reply, and writes fenced (two activations can
// briefly coexist during topology changes). A node declared dead while it
// was in fact alive (a long pause, a partition) is a zombie: peers refuse it
// for good. Peers tell it so, and its Dead channel closes once a majority of
// its live peers agree; the process should then exit and start again.
// Partitions heal because every node keeps retrying dead members and, while
// alone, its seeds.
//
// Calls. Make grain requests through a Caller (NewCaller), which uses
// CallOptions (Proto.Actor's default retry backoff is nanoseconds long, see
// calls.go) and gives up on a call as soon as the member serving it leaves
// the cluster, instead of waiting out its timeout. Messages between nodes must be
// protobuf messages; plain Go values only work within one process.
//
// Usage:
//
//	cfg := cluster.DefaultConfig()
//	cfg.NodeName, cfg.GossipAddr, cfg.Join = "node-1", "10.0.0.5:7946", []string{"10.0.0.6:7946"}
//	cfg.RemoteHost, cfg.Kinds = "10.0.0.5", []*pcluster.Kind{eventKind}
//	node, err := cluster.Start(ctx, cfg)
//	if err != nil { ... }
//	defer node.Shutdown(true)
//	caller := cluster.NewCaller(node.Cluster())
//	res, err := caller.Request(eventID, "event", req, 2*time.Second)
//	select { case <-node.Dead(): /* exit and restart */ case <-ctx.Done(): }
//
// Testing. FastGossipConfig shrinks the timings for loopback tests, port 0
// picks free ports, and Node.PartitionGossip cuts a node's gossip to
// simulate a partition. With several nodes in one process, the race detector
// reports races inside protoactor-go (its block list, member list and
// disthash lookup are read without locks) and grpc (Remote.Start swaps
// grpc's global logger); they are not in this package.
package cluster
