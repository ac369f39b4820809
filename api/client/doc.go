// Package client is the Go client of the boxoffice REST API, generated
// from api/openapi.yaml by oapi-codegen (client.gen.go: do not edit it,
// run go generate ./api/client). It exists so that integrators have a
// client that matches the spec, and so that the end-to-end tests
// (cmd/boxoffice) speak to a node only through the spec: when the spec
// and the server disagree, those tests fail.
//
// Typical use:
//
//	c, err := client.NewClientWithResponses("https://tickets.example.com",
//		client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
//			r.Header.Set("Authorization", "Bearer "+token)
//			return nil
//		}))
//	res, err := c.ReserveSeatsWithResponse(ctx, nil, client.ReserveSeatsJSONRequestBody{...})
//	// res.JSON201 is the held booking; res.JSON409 the conflict, and so on.
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
