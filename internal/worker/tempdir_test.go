package worker

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// helperRoot names, in the environment of TestTempDirHelperProcess, the root it opens its
// temporary directory under.
const helperRoot = "OFFSITE_TEMPDIR_HELPER_ROOT"

// TestTempDirHelperProcess is a worker process for TestTempDirOfKilledWorker: it opens its
// temporary directory, writes a file there, prints the directory and waits to be killed.
func TestTempDirHelperProcess(t *testing.T) {
	root := os.Getenv(helperRoot)
	if root == "" {
		t.Skip("run by TestTempDirOfKilledWorker")
	}
	d, _, err := OpenTempDir(root)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(d.Path, "cog.tif"), make([]byte, 1<<20), 0o600); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(d.Path)
	time.Sleep(time.Minute)
	os.Exit(1)
}

// Before: a worker killed during ingest left its temporary COG in the system's temporary
// directory for good. Now each worker's temporary files are in its own directory, which the
// next worker to start removes when its process is gone, and which a worker removes at exit;
// the directory of a live worker is left alone.
func TestTempDirOfKilledWorker(t *testing.T) {
	root := t.TempDir()
	live, _, err := OpenTempDir(root)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTempDirHelperProcess$")
	cmd.Env = append(os.Environ(), helperRoot+"="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	killed := line[:len(line)-1]
	if _, err := os.Stat(filepath.Join(killed, "cog.tif")); err != nil {
		cmd.Process.Kill()
		t.Fatalf("helper wrote no file: %q: %v", line, err)
	}
	// A worker starting while the other runs leaves its directory alone.
	other, removed, err := OpenTempDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 0 {
		t.Errorf("removed %v while their workers run", removed)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	next, removed, err := OpenTempDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{killed}) {
		t.Errorf("removed %v, want the killed worker's %s", removed, killed)
	}
	for _, gone := range []string{killed, other.Path} {
		if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there: %v", gone, err)
		}
	}
	if _, err := os.Stat(live.Path); err != nil {
		t.Errorf("the live worker's directory: %v", err)
	}
	for _, d := range []*TempDir{next, live} {
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if left, err := os.ReadDir(root); err != nil || len(left) != 0 {
		t.Errorf("left after every worker exited: %v %v", left, err)
	}
}
