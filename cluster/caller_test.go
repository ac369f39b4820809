package cluster_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/boxoffice/boxoffice/cluster"
)

// TestReplyBeatsDeparture: the member hosting the grain answers and then
// leaves before the caller looks at the outcome. The reply counts; the
// call must not report ErrMemberLeft (a reserve that succeeded would come
// back as 503, and its retry would find its own seats taken).
func TestReplyBeatsDeparture(t *testing.T) {
	nodes := mustStartCluster(t, "node-a", "node-b")
	a := nodes[0]
	id := idOwnedBy(t, a, "node-b") // also caches the grain's remote PID
	caller := cluster.NewCaller(a.Cluster())
	defer caller.Close()
	cluster.LeaveAfterReply(t)
	res, err := caller.Request(id, echoKind, wrapperspb.String(id), 2*time.Second)
	if err != nil {
		t.Fatalf("call answered before its member left: %v", err)
	}
	if sv, ok := res.(*wrapperspb.StringValue); !ok || sv.Value != "node-b" {
		t.Fatalf("reply %v, want node-b's", res)
	}
}
