package client_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedClientUpToDate fails when client.gen.go is not what
// oapi-codegen makes of the current api/openapi.yaml: a spec changed
// without `go generate ./api/client` would ship a client that disagrees
// with the server.
func TestGeneratedClientUpToDate(t *testing.T) {
	cfg, err := os.ReadFile("oapi-codegen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "client.gen.go")
	tmpCfg := filepath.Join(t.TempDir(), "oapi-codegen.yaml")
	// The config names its output; point it at the temporary file.
	if !strings.Contains(string(cfg), "\noutput: client.gen.go\n") {
		t.Fatal("oapi-codegen.yaml no longer says output: client.gen.go; update this test")
	}
	if err := os.WriteFile(tmpCfg, []byte(strings.Replace(string(cfg), "\noutput: client.gen.go\n", "\noutput: "+out+"\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", tmpCfg, "../openapi.yaml")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("api/client/client.gen.go is stale: run go generate ./api/client and commit the result")
	}
}
