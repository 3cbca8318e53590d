package ingest

import (
	"bytes"
	"errors"
	"io"
)

// Framing is how messages are delimited on a TCP or TLS stream (RFC 6587).
type Framing string

// Framings. FramingAuto decides per connection from its first bytes: a
// length prefix ("123 <...") means octet counting, anything else a trailer.
const (
	FramingAuto           Framing = "auto"
	FramingOctetCounting  Framing = "octet-counting"
	FramingNonTransparent Framing = "non-transparent" // LF, CRLF or NUL after each message
)

// frameReader splits a stream into syslog messages without copying them:
// a returned frame is valid until the next call. Frames longer than max are
// cut to max and flagged; the rest of such a frame is skipped.
type frameReader struct {
	r       io.Reader
	buf     []byte
	start   int // first unread byte
	end     int // end of buffered data
	max     int
	mode    Framing
	err     error // sticky read error, returned once the buffer is drained
	discard int   // octet-counted bytes still to skip after a cut frame
	skipEOL bool  // skip up to the next delimiter after a cut frame
}

func newFrameReader(r io.Reader, limit int, mode Framing) *frameReader {
	if mode == "" {
		mode = FramingAuto
	}
	return &frameReader{r: r, buf: make([]byte, max(2*limit, 64<<10)+16), max: limit, mode: mode}
}

// fill reads more data, first moving what is buffered to the front.
// It reports false when nothing more can come.
func (f *frameReader) fill() bool {
	if f.err != nil {
		return false
	}
	if f.start > 0 {
		f.end = copy(f.buf, f.buf[f.start:f.end])
		f.start = 0
	}
	if f.end == len(f.buf) {
		return true // full: the caller cuts a frame
	}
	n, err := f.r.Read(f.buf[f.end:])
	f.end += n
	if err != nil {
		f.err = err
	}
	return n > 0 || err == nil
}

// Next returns the next message. At the end of the stream it returns
// io.EOF (or the read error) after the last frame; a final message without
// a trailer is still returned.
func (f *frameReader) Next() (frame []byte, truncated bool, err error) {
	for {
		if f.discard > 0 {
			n := min(f.discard, f.end-f.start)
			f.start += n
			f.discard -= n
			if f.discard > 0 {
				f.start, f.end = 0, 0
				if !f.fill() {
					return nil, false, f.finalErr()
				}
				continue
			}
		}
		if f.skipEOL {
			if i := indexEOL(f.buf[f.start:f.end]); i >= 0 {
				f.start += i + 1
				f.skipEOL = false
			} else {
				f.start, f.end = 0, 0
				if !f.fill() {
					return nil, false, f.finalErr()
				}
				continue
			}
		}
		// Skip delimiters and blank space between frames.
		for f.start < f.end && isSpace(f.buf[f.start]) {
			f.start++
		}
		if f.start == f.end {
			if !f.fill() {
				return nil, false, f.finalErr()
			}
			continue
		}
		if f.mode == FramingAuto {
			if c := f.buf[f.start]; c >= '1' && c <= '9' {
				f.mode = FramingOctetCounting
			} else {
				f.mode = FramingNonTransparent
			}
		}
		if f.mode == FramingOctetCounting {
			frame, truncated, ok, err := f.octet()
			if ok || err != nil {
				return frame, truncated, err
			}
			continue
		}
		if frame, truncated, ok := f.trailer(); ok {
			return frame, truncated, nil
		}
		if !f.fill() {
			// The stream ended inside a frame: hand over what there is. At
			// EOF that is the last message, sent without a trailer; after a
			// read error (a timeout) it may be cut.
			if f.start < f.end {
				frame := trimCR(f.buf[f.start:f.end])
				f.start = f.end
				return frame, !errors.Is(f.err, io.EOF), nil
			}
			return nil, false, f.finalErr()
		}
	}
}

// octet reads "LEN SP MSG". When the prefix is not a length the stream is
// not octet-counted after all, and it falls back to trailers for good.
func (f *frameReader) octet() (frame []byte, truncated, ok bool, err error) {
	n, i := 0, f.start
	for ; i < f.end && f.buf[i] >= '0' && f.buf[i] <= '9'; i++ {
		n = n*10 + int(f.buf[i]-'0')
		if i-f.start > 9 {
			break
		}
	}
	switch {
	case i == f.end && i-f.start <= 9:
		if !f.fill() {
			frame = f.buf[f.start:f.end]
			f.start = f.end
			return frame, false, true, nil
		}
		return nil, false, false, nil
	case i == f.start || f.buf[i] != ' ' || n == 0:
		f.mode = FramingNonTransparent
		return nil, false, false, nil
	}
	off := i + 1 - f.start // where the message starts, from f.start
	want := min(n, f.max)
	for f.end-f.start-off < want {
		// Make room and read; fill may move the frame to the front.
		if !f.fill() {
			frame = f.buf[f.start+off : f.end]
			f.start = f.end
			return frame, true, true, nil
		}
	}
	body := f.start + off
	frame = f.buf[body : body+want]
	f.start = body + want
	if n > f.max {
		f.discard = n - f.max
		return frame, true, true, nil
	}
	return frame, false, true, nil
}

// trailer finds a message ended by LF or NUL in the buffer. A message
// longer than max is cut there and the rest skipped up to the delimiter.
func (f *frameReader) trailer() (frame []byte, truncated, ok bool) {
	data := f.buf[f.start:f.end]
	lim := min(len(data), f.max+1)
	if i := indexEOL(data[:lim]); i >= 0 && i <= f.max {
		f.start += i + 1
		return trimCR(data[:i]), false, true
	}
	if len(data) > f.max {
		f.start += f.max
		f.skipEOL = true
		return data[:f.max], true, true
	}
	return nil, false, false
}

func (f *frameReader) finalErr() error {
	if f.err == nil {
		return io.EOF
	}
	return f.err
}

func indexEOL(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		i = len(b)
	}
	if j := bytes.IndexByte(b[:i], 0); j >= 0 {
		return j
	}
	if i == len(b) {
		return -1
	}
	return i
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

func isSpace(c byte) bool { return c == '\n' || c == '\r' || c == 0 || c == ' ' || c == '\t' }
