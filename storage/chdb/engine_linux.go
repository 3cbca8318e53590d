//go:build linux && (amd64 || arm64) && !nochdb

package chdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// The library and the engine it runs are process-wide: libchdb.so is loaded
// once and serves one data path at a time.
var (
	procMu  sync.Mutex
	procLib *api
	procEng *Engine
)

// Options configure [Open].
type Options struct {
	// LibPath is libchdb.so; empty means [Locate]'s search.
	LibPath string
	// Path is the data directory; empty means an in-memory engine.
	Path string
	// Args are extra engine arguments given to every connection, such as
	// "--max_threads=2".
	Args []string
	// Conns bounds the connections used at once (a connection runs one
	// statement at a time); 0 means 4.
	Conns int
}

// Engine is the in-process ClickHouse engine on one data path. It is safe
// for concurrent use; statements run on pooled connections.
type Engine struct {
	lib    *api
	path   string
	args   []string
	anchor *uintptr // held open so the engine is not rebooted when the pool empties
	slots  chan struct{}
	mu     sync.Mutex
	idle   []*Conn
	live   int // connections not yet closed, anchor included
	closed bool
}

// Open loads the library on first use and starts the engine on opts.Path.
// Only one engine may be open per process.
func Open(opts Options) (*Engine, error) {
	procMu.Lock()
	defer procMu.Unlock()
	if procLib == nil {
		p, err := Locate(opts.LibPath)
		if err != nil {
			return nil, err
		}
		lib, err := dlopen(p)
		if err != nil {
			return nil, fmt.Errorf("chdb: %w", err)
		}
		procLib = lib
	}
	if procEng != nil {
		return nil, fmt.Errorf("chdb: an engine is already open on %q: one data path per process", procEng.path)
	}
	n := opts.Conns
	if n <= 0 {
		n = 4
	}
	e := &Engine{lib: procLib, path: opts.Path, args: opts.Args, slots: make(chan struct{}, n)}
	anchor, err := e.connect()
	if err != nil {
		return nil, err
	}
	e.anchor = anchor
	e.live = 1
	procEng = e
	return e, nil
}

// LibraryVersion returns the loaded library's version, or "" before the
// first [Open].
func LibraryVersion() string {
	procMu.Lock()
	defer procMu.Unlock()
	if procLib == nil {
		return ""
	}
	return cstring(procLib.version())
}

// Path returns the engine's data directory ("" when in memory).
func (e *Engine) Path() string { return e.path }

func (e *Engine) connect() (*uintptr, error) {
	argv := []string{"clickhouse"}
	if e.path != "" {
		argv = append(argv, "--path="+e.path)
	}
	argv = append(argv, e.args...)
	var pin runtime.Pinner
	defer pin.Unpin()
	cargs := make([]*byte, len(argv)+1)
	for i, a := range argv {
		b := append([]byte(a), 0)
		pin.Pin(&b[0])
		cargs[i] = &b[0]
	}
	saved := saveSignalHandlers()
	h := e.lib.connect(int32(len(argv)), &cargs[0])
	restoreSignalHandlers(saved)
	runtime.KeepAlive(cargs)
	if h == nil || *h == 0 {
		return nil, fmt.Errorf("chdb: connect to %q failed (is another process using it?)", e.path)
	}
	return h, nil
}

// ErrClosed is returned by an [Engine] after Close.
var ErrClosed = errors.New("chdb: engine closed")

// Acquire returns a connection for the caller's exclusive use until
// [Engine.Release]. It waits for a free one while ctx allows.
func (e *Engine) Acquire(ctx context.Context) (*Conn, error) {
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		<-e.slots
		return nil, ErrClosed
	}
	if n := len(e.idle); n > 0 {
		c := e.idle[n-1]
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		return c, nil
	}
	e.live++
	e.mu.Unlock()
	h, err := e.connect()
	if err != nil {
		e.mu.Lock()
		e.live--
		e.mu.Unlock()
		<-e.slots
		return nil, err
	}
	return &Conn{e: e, h: h, settings: map[string]string{}}, nil
}

// Release returns c to the pool. A connection whose statement failed in an
// unknown state may be passed with broken set, and it is closed instead.
func (e *Engine) Release(c *Conn, broken bool) {
	e.mu.Lock()
	if e.closed || broken {
		e.mu.Unlock()
		e.closeConn(c.h)
	} else {
		e.idle = append(e.idle, c)
		e.mu.Unlock()
	}
	<-e.slots
}

func (e *Engine) closeConn(h *uintptr) {
	e.lib.closeConn(h)
	e.mu.Lock()
	e.live--
	last := e.live == 0
	e.mu.Unlock()
	if last {
		procMu.Lock()
		if procEng == e {
			procEng = nil
		}
		procMu.Unlock()
	}
}

// Close closes idle connections and the engine's own; the engine shuts down
// when the last connection in use is released. Close is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	idle := e.idle
	e.idle = nil
	e.mu.Unlock()
	for _, c := range idle {
		e.closeConn(c.h)
	}
	e.closeConn(e.anchor)
	return nil
}

// Query runs one statement on a pooled connection and returns its output in
// format (e.g. "Native", "TabSeparated"). See [Conn.Query].
func (e *Engine) Query(ctx context.Context, query, format string, params map[string]string) (*Result, error) {
	c, err := e.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer e.Release(c, false)
	return c.Query(query, format, params)
}

// Conn is one engine connection: a session with its own current database and
// settings. It runs one statement at a time and is not safe for concurrent
// use.
type Conn struct {
	e        *Engine
	h        *uintptr
	db       string
	settings map[string]string
}

// cparams holds parameter arrays in pinned Go memory for one call.
type cparams struct {
	pin                 runtime.Pinner
	names, values       []*byte
	nameLens, valueLens []uintptr
}

func newCParams(params map[string]string) *cparams {
	p := &cparams{}
	if len(params) == 0 {
		return p
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.names = append(p.names, p.bytes(k))
		p.nameLens = append(p.nameLens, uintptr(len(k)))
		p.values = append(p.values, p.bytes(params[k]))
		p.valueLens = append(p.valueLens, uintptr(len(params[k])))
	}
	p.pin.Pin(&p.names[0])
	p.pin.Pin(&p.values[0])
	p.pin.Pin(&p.nameLens[0])
	p.pin.Pin(&p.valueLens[0])
	return p
}

// bytes copies s into pinned memory, NUL-terminated for good measure.
func (p *cparams) bytes(s string) *byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	p.pin.Pin(&b[0])
	return &b[0]
}

func first[T any](s []T) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(&s[0])
}

// strPtr returns a pointer to s's bytes, never nil.
func strPtr(s string) unsafe.Pointer {
	if s == "" {
		return unsafe.Pointer(&zero)
	}
	return unsafe.Pointer(unsafe.StringData(s))
}

var zero byte

// Query runs one statement and returns its output in format. params bind
// {name:Type} placeholders in the engine (never by text substitution). An
// engine exception is returned as *[Error].
func (c *Conn) Query(query, format string, params map[string]string) (*Result, error) {
	if strings.TrimSpace(query) == "" {
		return nil, &Error{Code: 62, Name: "SYNTAX_ERROR", Message: "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)"}
	}
	p := newCParams(params)
	defer p.pin.Unpin()
	res := c.e.lib.queryWithParamsN(*c.h, strPtr(query), uintptr(len(query)), strPtr(format), uintptr(len(format)),
		first(p.names), first(p.nameLens), first(p.values), first(p.valueLens), uintptr(len(p.names)))
	runtime.KeepAlive(query)
	runtime.KeepAlive(format)
	return c.result(res)
}

// result converts and frees a chdb_result.
func (c *Conn) result(res uintptr) (*Result, error) {
	if res == 0 {
		return nil, errors.New("chdb: no result (connection closed?)")
	}
	defer c.e.lib.destroyResult(res)
	if msg := c.e.lib.resultError(res); msg != nil {
		return nil, newError(cstring(msg))
	}
	r := &Result{
		Elapsed:      time.Duration(c.e.lib.resultElapsed(res) * float64(time.Second)),
		RowsRead:     c.e.lib.resultRowsRead(res),
		BytesRead:    c.e.lib.resultBytesRead(res),
		RowsWritten:  c.e.lib.resultRowsWritten(res),
		BytesWritten: c.e.lib.resultBytesWritten(res),
	}
	if n := c.e.lib.resultLength(res); n > 0 {
		if buf := c.e.lib.resultBuffer(res); buf != nil {
			r.Data = append([]byte(nil), unsafe.Slice(buf, n)...)
		}
	}
	return r, nil
}

// insertChunk is the size of the pieces data is streamed to the engine in.
const insertChunk = 1 << 20

// Insert runs query, an INSERT without FORMAT clause or inline data (e.g.
// "INSERT INTO t (a, b)"), feeding it data in format read from data through
// the engine's stream-insert API; any bytes are safe, "\n\n" included. The
// rows are committed when Insert returns nil; on a read error nothing is.
func (c *Conn) Insert(query, format string, params map[string]string, data io.Reader) (*Result, error) {
	p := newCParams(params)
	defer p.pin.Unpin()
	s := c.e.lib.streamInsertWithParams(*c.h, strPtr(query), uintptr(len(query)), strPtr(format), uintptr(len(format)),
		first(p.names), first(p.nameLens), first(p.values), first(p.valueLens), uintptr(len(p.names)))
	runtime.KeepAlive(query)
	runtime.KeepAlive(format)
	if s == 0 {
		return nil, errors.New("chdb: stream insert: no handle (connection closed?)")
	}
	defer c.e.lib.destroyInsertStream(s)
	if msg := c.e.lib.streamInsertError(s); msg != nil {
		return nil, newError(cstring(msg))
	}
	buf := make([]byte, insertChunk)
	for {
		n, err := io.ReadFull(data, buf)
		if n > 0 {
			if c.e.lib.streamAppend(s, unsafe.Pointer(&buf[0]), uintptr(n)) != 0 {
				if msg := c.e.lib.streamInsertError(s); msg != nil {
					return nil, newError(cstring(msg))
				}
				return nil, errors.New("chdb: stream insert: append failed")
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("chdb: stream insert: read data: %w", err)
		}
	}
	runtime.KeepAlive(buf)
	return c.result(c.e.lib.streamDone(s))
}

// Configure makes database current and settings the session's settings,
// issuing only the changes since the previous call: settings no longer
// listed go back to their defaults. Names must be plain identifiers.
func (c *Conn) Configure(database string, settings map[string]string) error {
	if database == "" {
		database = "default"
	}
	if database != c.db {
		if _, err := c.Query("USE "+QuoteIdent(database), "", nil); err != nil {
			return err
		}
		c.db = database
	}
	var set []string
	for k, v := range settings {
		if !isIdent(k) {
			return fmt.Errorf("chdb: bad setting name %q", k)
		}
		if old, ok := c.settings[k]; !ok || old != v {
			set = append(set, k+" = "+settingLiteral(v))
		}
	}
	for k := range c.settings {
		if _, ok := settings[k]; !ok {
			set = append(set, k+" = DEFAULT")
		}
	}
	if len(set) == 0 {
		return nil
	}
	sort.Strings(set)
	if _, err := c.Query("SET "+strings.Join(set, ", "), "", nil); err != nil {
		// Some of the changes may have applied: forget what we know.
		c.settings = map[string]string{}
		for k := range settings {
			c.settings[k] = "\x00unknown"
		}
		return err
	}
	c.settings = make(map[string]string, len(settings))
	for k, v := range settings {
		c.settings[k] = v
	}
	return nil
}

// settingLiteral renders a setting value: numbers as they are, anything
// else as a string literal.
func settingLiteral(v string) string {
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	return QuoteString(v)
}
