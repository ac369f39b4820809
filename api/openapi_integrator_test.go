package api_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIForIntegrators checks what generated clients depend on, so
// that `go test` catches a regression before `make lint` does: every
// operation has a unique lowerCamel operationId (the generated method
// names), a summary, one declared tag, and security declared (bearer, or
// [] for public routes); the HTML pages are x-internal; an operation with
// parameters or a body documents 400.
func TestOpenAPIForIntegrators(t *testing.T) {
	doc, _, err := loadSpec()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	var tags []string
	for _, tag := range doc.Tags {
		tags = append(tags, tag.Name)
	}
	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, o := range item.Operations() {
			op := method + " " + path
			if !camel.MatchString(o.OperationID) {
				t.Errorf("%s: operationId %q is not lowerCamel", op, o.OperationID)
			}
			if prev, dup := ids[o.OperationID]; dup {
				t.Errorf("%s: operationId %q also names %s", op, o.OperationID, prev)
			}
			ids[o.OperationID] = op
			if strings.TrimSpace(o.Summary) == "" {
				t.Errorf("%s: no summary", op)
			}
			if len(o.Tags) != 1 || !slices.Contains(tags, o.Tags[0]) {
				t.Errorf("%s: tags %v, want one of %v", op, o.Tags, tags)
			}
			if o.Security == nil {
				t.Errorf("%s: security not declared (bearer, or [] for a public route)", op)
			}
			internal, _ := o.Extensions["x-internal"].(bool)
			if web := len(o.Tags) == 1 && o.Tags[0] == "web pages"; web != internal {
				t.Errorf("%s: tag %v but x-internal %v: the HTML pages, and only they, are internal", op, o.Tags, internal)
			}
			hasParams := len(o.Parameters) > 0 || len(item.Parameters) > 0
			if (o.RequestBody != nil || hasParams) && !internal && o.Responses.Value("400") == nil {
				t.Errorf("%s takes input but does not document 400", op)
			}
		}
	}
}
