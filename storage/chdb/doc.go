// Package chdb runs the ClickHouse engine in-process through chDB's
// libchdb.so, loaded lazily with purego (no cgo).
//
// The library is looked for on first use only (see [Locate]); a process that
// never opens an [Engine] never needs it. When it is missing, [Open] returns
// an error wrapping [ErrLibraryNotFound] that names the command installing it.
//
// purego makes an executable depend on the system's dynamic loader even with
// CGO_ENABLED=0. A program that only reads a ClickHouse server (the Grafana
// plugin, dashboards/plugin) builds with the tag nochdb: the engine is left
// out, [Open] fails, and the executable is static.
//
// Facts this package handles: chDB must not install signal handlers (Go's own
// are saved before loading and restored after); the engine serves one data
// path per process; and data inlined after INSERT ... FORMAT is cut at the
// first "\n\n", so inserts go through the stream-insert API ([Conn.Insert]).
package chdb
