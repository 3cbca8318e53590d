package chdb

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Result is the outcome of one statement.
type Result struct {
	// Data is the output in the requested format; empty for statements that
	// return nothing.
	Data         []byte
	Elapsed      time.Duration
	RowsRead     uint64
	BytesRead    uint64
	RowsWritten  uint64
	BytesWritten uint64
}

// Error is an exception raised by the engine.
type Error struct {
	// Code is the ClickHouse error code (e.g. 60 for UNKNOWN_TABLE); 0 when
	// the message carried none.
	Code int
	// Name is the symbolic error name when the message carried one.
	Name string
	// Message is the engine's text, starting "Code: N. DB::Exception: ...".
	Message string
}

func (e *Error) Error() string { return "chdb: " + e.Message }

var (
	codeRe = regexp.MustCompile(`^Code:\s*(\d+)\.`)
	nameRe = regexp.MustCompile(`\(([A-Z][A-Z0-9_]+)\)`)
)

// newError builds an Error from the engine's message.
func newError(msg string) *Error {
	msg = strings.TrimSpace(msg)
	e := &Error{Message: msg}
	if m := codeRe.FindStringSubmatch(msg); m != nil {
		e.Code, _ = strconv.Atoi(m[1])
	}
	if m := nameRe.FindAllStringSubmatch(msg, -1); m != nil {
		e.Name = m[len(m)-1][1]
	}
	return e
}
