package httpapi_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/httpapi"
)

// oapiCodegen is the client generator the test runs, pinned (through the Go module proxy).
const oapiCodegen = "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2"

// clientMain calls one route through the generated client: the inspections list, with limit
// typed as an integer (the program does not compile otherwise), and checks the typed answer.
const clientMain = `package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"gencheck/client"
)

func main() {
	auth := client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+os.Args[2])
		return nil
	})
	c, err := client.NewClientWithResponses(os.Args[1], auth)
	if err != nil {
		panic(err)
	}
	limit, offset := 1, 0
	r, err := c.GetInspectionsWithResponse(context.Background(), &client.GetInspectionsParams{Limit: &limit, Offset: &offset})
	if err != nil {
		panic(err)
	}
	if r.JSON200 == nil {
		fmt.Printf("status %d, no typed answer: %s\n", r.StatusCode(), r.Body)
		os.Exit(1)
	}
	fmt.Printf("status %d total %d items %d limit %d link %s\n", r.StatusCode(), r.JSON200.Total, len(r.JSON200.Inspections),
		*r.JSON200.Limit, r.HTTPResponse.Header.Get("Link"))
}
`

// TestGeneratedClient generates a Go client from the served OpenAPI document with
// oapi-codegen, checks that it compiles, and calls one route with it against a real server.
func TestGeneratedClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds oapi-codegen and a client (about a minute)")
	}
	_, hs := newServer(t)
	code, doc := do(t, "GET", hs.URL+"/openapi.json", "")
	if code != 200 {
		t.Fatalf("GET /openapi.json: %d", code)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("openapi.json", string(doc))
	write("go.mod", "module gencheck\n\ngo 1.26\n")
	write("main.go", clientMain)
	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr)
		}
		return string(out)
	}
	gen := run("go", "run", oapiCodegen, "-generate", "types,client", "-package", "client", "openapi.json")
	write("client/client.gen.go", gen)
	run("go", "mod", "tidy")
	run("go", "vet", "./...")
	out := run("go", "run", ".", hs.URL, tokenOf[httpapi.RoleAdmin])
	t.Log(out)
	if !strings.HasPrefix(out, "status 200 total 0 items 0 limit 1 link </api/v1/inspections?limit=1&offset=0>; rel=\"first\"") {
		t.Errorf("generated client's call: %s", out)
	}
}
