//go:build !(linux && (amd64 || arm64)) || nochdb

package chdb

import (
	"context"
	"errors"
	"io"
)

// errUnsupported: the engine is loaded with purego on linux/amd64 and
// linux/arm64; builds with the tag nochdb leave it (and purego, which
// makes an executable depend on the system's dynamic loader) out.
var errUnsupported = errors.New("chdb: the embedded engine is not in this build (linux/amd64 or linux/arm64, without the nochdb tag)")

// Options configure [Open].
type Options struct {
	LibPath string
	Path    string
	Args    []string
	Conns   int
}

// Engine is unavailable on this platform.
type Engine struct{}

// Conn is unavailable on this platform.
type Conn struct{}

// ErrClosed is returned by an [Engine] after Close.
var ErrClosed = errors.New("chdb: engine closed")

// Open fails on this platform.
func Open(Options) (*Engine, error) { return nil, errUnsupported }

// LibraryVersion returns "" on this platform.
func LibraryVersion() string { return "" }

// Path returns "".
func (e *Engine) Path() string { return "" }

// Acquire fails on this platform.
func (e *Engine) Acquire(context.Context) (*Conn, error) { return nil, errUnsupported }

// Release does nothing on this platform.
func (e *Engine) Release(*Conn, bool) {}

// Close does nothing on this platform.
func (e *Engine) Close() error { return nil }

// Query fails on this platform.
func (e *Engine) Query(context.Context, string, string, map[string]string) (*Result, error) {
	return nil, errUnsupported
}

// Query fails on this platform.
func (c *Conn) Query(string, string, map[string]string) (*Result, error) { return nil, errUnsupported }

// Insert fails on this platform.
func (c *Conn) Insert(string, string, map[string]string, io.Reader) (*Result, error) {
	return nil, errUnsupported
}

// Configure fails on this platform.
func (c *Conn) Configure(string, map[string]string) error { return errUnsupported }
