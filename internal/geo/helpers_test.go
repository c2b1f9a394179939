package geo

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// ringJSON formats a ring as GeoJSON coordinates.
func ringJSON(r orb.Ring) string {
	parts := make([]string, len(r))
	for i, p := range r {
		parts[i] = fmt.Sprintf("[%v,%v]", p[0], p[1])
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// MustOgr2ogr runs ogr2ogr (gdal-bin) with args, skipping the test when it
// is not installed (failing under CI=true).
func MustOgr2ogr(tb testing.TB, args ...string) {
	tb.Helper()
	bin, err := exec.LookPath("ogr2ogr")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("ogr2ogr not found")
		}
		tb.Skip("ogr2ogr not found; skipping")
	}
	cmd := exec.Command(bin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ogr2ogr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// MustWriteFile writes content to dir/name and returns the path.
func MustWriteFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}
