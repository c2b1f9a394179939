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

// MustSharedData returns the absolute path of shared/data/rel, found by
// walking up from the package directory. It skips the test when the data
// is absent, except under CI=true, where it fails.
func MustSharedData(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("shared data %s not found above the package directory", rel)
	}
	tb.Skipf("shared data %s not found; skipping", rel)
	return ""
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
