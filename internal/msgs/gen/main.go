// Command gen writes the message catalog for the web interface (msgs.TypeScript) to the file
// named by its argument: `go generate ./internal/msgs` writes web/src/msgcatalog.ts.
package main

import (
	"fmt"
	"os"

	"github.com/offsite/offsite/internal/msgs"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen FILE.ts")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], msgs.TypeScript(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
