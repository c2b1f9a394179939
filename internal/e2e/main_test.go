package e2e

import (
	"os"
	"testing"
)

// TestMain removes the commands the fault tests compiled (buildCmd).
func TestMain(m *testing.M) {
	code := m.Run()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	os.Exit(code)
}
