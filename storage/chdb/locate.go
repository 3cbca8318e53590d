package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Version is the chDB release this package is written and tested against.
const Version = "26.7.3"

// Package is the npm package, pinned, that ships libchdb.so.
const Package = "@chdb/lib-linux-x64-gnu@26.7.3-stable.1"

// EnvLibPath names the environment variable that points at libchdb.so.
const EnvLibPath = "CHDB_LIB_PATH"

// CacheDir is the project cache, relative to the module root, that
// `make chdb` installs the library into.
const CacheDir = ".cache/chdb"

// cacheLib is the library's path inside CacheDir.
const cacheLib = "node_modules/@chdb/lib-linux-x64-gnu/libchdb.so"

// InstallHint is the one command that installs the library.
const InstallHint = "make chdb"

// ErrLibraryNotFound is wrapped by the error returned when libchdb.so cannot
// be found.
var ErrLibraryNotFound = errors.New("chdb: libchdb.so not found")

// Locate returns the path of libchdb.so: explicit when it is not empty (and
// then it must exist), else $CHDB_LIB_PATH, else CacheDir under the first
// directory holding go.mod found walking up from the working directory or
// from the executable's directory.
func Locate(explicit string) (string, error) {
	if explicit != "" {
		return existing(explicit, "option")
	}
	if env := os.Getenv(EnvLibPath); env != "" {
		return existing(env, EnvLibPath)
	}
	var tried []string
	starts := []string{}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, start := range starts {
		root, ok := moduleRoot(start)
		if !ok {
			continue
		}
		p := filepath.Join(root, CacheDir, cacheLib)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	where := "no go.mod above the working directory"
	if len(tried) > 0 {
		where = "looked in " + strings.Join(tried, ", ")
	}
	return "", fmt.Errorf("%w (%s; %s unset): install it with `%s` (npm package %s) or set %s",
		ErrLibraryNotFound, where, EnvLibPath, InstallHint, Package, EnvLibPath)
}

func existing(p, from string) (string, error) {
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: %s=%s: %w; install it with `%s` or fix the path",
			ErrLibraryNotFound, from, p, err, InstallHint)
	}
	return p, nil
}

// moduleRoot walks up from dir to the first directory holding go.mod.
func moduleRoot(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
