package worker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tempPrefix starts the name of every worker process's temporary directory.
const tempPrefix = "offsite-worker-"

// tempLock is the file in a temporary directory its process holds an exclusive flock on
// while it lives; the kernel releases the lock when the process dies, however it dies.
const tempLock = ".lock"

// TempDir is a worker process's own directory for temporary files (the COGs ingest writes
// before uploading them). A worker killed mid-task cannot remove it; the next worker to
// start on the machine does (OpenTempDir).
type TempDir struct {
	Path string
	lock *os.File
}

// OpenTempDir removes the temporary directories under root whose process is gone, then
// creates this process's own, named offsite-worker-<pid>-<random>, and returns it with the
// paths it removed. Close removes it.
func OpenTempDir(root string) (*TempDir, []string, error) {
	removed, err := removeStaleTempDirs(root)
	if err != nil {
		return nil, removed, err
	}
	dir, err := os.MkdirTemp(root, tempPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, removed, fmt.Errorf("worker: temporary directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, tempLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != nil {
			lock.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, removed, fmt.Errorf("worker: lock temporary directory %s: %w", dir, err)
	}
	return &TempDir{Path: dir, lock: lock}, removed, nil
}

// Close removes the directory and everything in it.
func (d *TempDir) Close() error {
	err := os.RemoveAll(d.Path)
	if cerr := d.lock.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeStaleTempDirs removes the worker temporary directories under root that no live
// process holds, and returns their paths.
func removeStaleTempDirs(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("worker: list %s: %w", root, err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if !staleTempDir(dir) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, dir)
	}
	return removed, errors.Join(errs...)
}

// staleTempDir reports whether no live process holds dir: nobody holds its lock, and the
// pid in its name is not running or the directory is over a minute old (the pid was
// reused). A process that has just created its directory, and not yet locked it, is
// running, so a worker starting at the same moment leaves it alone.
func staleTempDir(dir string) bool {
	pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(dir), tempPrefix), "-", 2)[0])
	if err != nil {
		return false // not one of ours
	}
	if f, err := os.Open(filepath.Join(dir, tempLock)); err == nil {
		defer f.Close()
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			return false // held
		}
	}
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	st, err := os.Stat(dir)
	return err == nil && time.Since(st.ModTime()) > time.Minute
}
