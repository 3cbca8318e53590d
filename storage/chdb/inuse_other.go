//go:build !unix

package chdb

// InUse reports false: the embedded engine runs on Linux only.
func InUse(path string) (bool, error) { return false, nil }
