//go:build linux && (amd64 || arm64) && !nochdb

package chdb

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	"github.com/ebitengine/purego"
)

// api holds the C entry points of libchdb.so that this package uses. The
// prototypes follow chdb.h of chDB 26.7; handles are opaque pointers kept as
// uintptr because the engine owns their memory.
type api struct {
	version                func() *byte
	setSignalHandlers      func(enabled int32)
	connect                func(argc int32, argv **byte) *uintptr
	closeConn              func(conn *uintptr)
	queryWithParamsN       func(conn uintptr, query unsafe.Pointer, queryLen uintptr, format unsafe.Pointer, formatLen uintptr, names, nameLens, values, valueLens unsafe.Pointer, count uintptr) uintptr
	streamInsertWithParams func(conn uintptr, query unsafe.Pointer, queryLen uintptr, format unsafe.Pointer, formatLen uintptr, names, nameLens, values, valueLens unsafe.Pointer, count uintptr) uintptr
	streamAppend           func(stream uintptr, data unsafe.Pointer, n uintptr) int32
	streamDone             func(stream uintptr) uintptr
	streamInsertError      func(stream uintptr) *byte
	destroyInsertStream    func(stream uintptr)
	destroyResult          func(res uintptr)
	resultBuffer           func(res uintptr) *byte
	resultLength           func(res uintptr) uintptr
	resultElapsed          func(res uintptr) float64
	resultRowsRead         func(res uintptr) uint64
	resultBytesRead        func(res uintptr) uint64
	resultRowsWritten      func(res uintptr) uint64
	resultBytesWritten     func(res uintptr) uint64
	resultError            func(res uintptr) *byte
}

// dlopen loads the library at path and resolves every symbol in api. Go's
// signal handlers are saved before the library's static initialisers run and
// restored after chDB has been told to keep its hands off signals, so the Go
// runtime (preemption, SIGPROF, os/signal) keeps working.
func dlopen(path string) (*api, error) {
	saved := saveSignalHandlers()
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		restoreSignalHandlers(saved)
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	a := &api{}
	syms := []struct {
		name string
		fn   any
	}{
		{"chdb_version", &a.version},
		{"chdb_set_signal_handlers_enabled", &a.setSignalHandlers},
		{"chdb_connect", &a.connect},
		{"chdb_close_conn", &a.closeConn},
		{"chdb_query_with_params_n", &a.queryWithParamsN},
		{"chdb_stream_insert_with_params_n", &a.streamInsertWithParams},
		{"chdb_stream_append", &a.streamAppend},
		{"chdb_stream_done", &a.streamDone},
		{"chdb_stream_insert_error", &a.streamInsertError},
		{"chdb_destroy_insert_stream", &a.destroyInsertStream},
		{"chdb_destroy_query_result", &a.destroyResult},
		{"chdb_result_buffer", &a.resultBuffer},
		{"chdb_result_length", &a.resultLength},
		{"chdb_result_elapsed", &a.resultElapsed},
		{"chdb_result_rows_read", &a.resultRowsRead},
		{"chdb_result_bytes_read", &a.resultBytesRead},
		{"chdb_result_rows_written", &a.resultRowsWritten},
		{"chdb_result_bytes_written", &a.resultBytesWritten},
		{"chdb_result_error", &a.resultError},
	}
	for _, s := range syms {
		p, err := purego.Dlsym(h, s.name)
		if err != nil {
			restoreSignalHandlers(saved)
			return nil, fmt.Errorf("load %s: symbol %s: %w (is it chDB %s?)", path, s.name, err, Version)
		}
		purego.RegisterFunc(s.fn, p)
	}
	a.setSignalHandlers(0)
	restoreSignalHandlers(saved)
	return a, nil
}

// sigactionT is the kernel's struct sigaction on linux/amd64 and arm64.
type sigactionT struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const nsig = 65

// saveSignalHandlers reads the current disposition of every signal.
func saveSignalHandlers() *[nsig]sigactionT {
	var s [nsig]sigactionT
	for sig := 1; sig < nsig; sig++ {
		_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0,
			uintptr(unsafe.Pointer(&s[sig])), 8, 0, 0)
	}
	return &s
}

// restoreSignalHandlers puts back every disposition that differs from saved.
// SIGKILL and SIGSTOP cannot be changed and never differ.
func restoreSignalHandlers(saved *[nsig]sigactionT) {
	cur := saveSignalHandlers()
	for sig := 1; sig < nsig; sig++ {
		if cur[sig] != saved[sig] {
			_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig),
				uintptr(unsafe.Pointer(&saved[sig])), 0, 8, 0, 0)
		}
	}
	runtime.KeepAlive(saved)
}

// cstring copies a NUL-terminated string owned by the engine into Go memory.
func cstring(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
