//go:build unix

package bus

import "golang.org/x/sys/unix"

// diskFree returns the space free to otsiem on the filesystem holding dir,
// and its size.
var diskFree = func(dir string) (free, total int64) {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return 1 << 62, 1 << 62 // unknown: never taken for full
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize)
}
