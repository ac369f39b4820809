package api_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsOnlyRoot: api and its subpackages import only the root
// package and each other (issue 15), so that the waiting room, the engine
// and the stores reach the HTTP layer through the root's interfaces and
// cmd alone joins them.
func TestImportsOnlyRoot(t *testing.T) {
	const mod = "github.com/boxoffice/boxoffice"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", mod+"/api/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == mod || p == mod+"/api" || strings.HasPrefix(p, mod+"/api/") || !strings.HasPrefix(p, mod+"/") {
			continue
		}
		t.Errorf("api imports %s; give it a root interface instead", p)
	}
}
