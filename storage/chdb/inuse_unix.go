//go:build unix

package chdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// InUse reports whether an engine, in this process or another (otsiem run),
// holds the data directory path. The engine keeps an exclusive flock on
// the file "status" in its data directory while it runs (ClickHouse's
// StatusFile); InUse tries that lock without waiting and releases it at
// once. A directory without that file is not in use.
func InUse(path string) (bool, error) {
	f, err := os.Open(filepath.Join(path, "status"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("chdb: %w", err)
	}
	defer f.Close()
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); {
	case err == nil:
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, nil
	default:
		return false, fmt.Errorf("chdb: lock %s: %w", f.Name(), err)
	}
}
