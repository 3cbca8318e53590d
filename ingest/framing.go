package ingest

import (
	"bytes"
	"errors"
	"io"
	"strconv"
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

// frameKind says how a frame ended.
type frameKind uint8

const (
	frameWhole frameKind = iota
	// frameCut: longer than the limit, or an octet count over it; cut at
	// the limit, the rest discarded up to the next frame.
	frameCut
	// frameIncomplete: the stream ended or stalled inside the frame.
	frameIncomplete
	// frameBad: octet counting with no length where one must be; the bytes
	// up to the next frame boundary (at most the limit).
	frameBad
)

// frameReader splits a stream into syslog messages without copying them:
// a returned frame is valid until the next call. Nothing is dropped
// silently: a frame longer than max is cut to max and flagged, and every
// byte skipped after it is added to discarded.
//
// Octet counting (RFC 6587 3.4.1) trusts the sender's length prefix. A
// prefix that cannot be right — not a number, or a count over max — is
// not trusted: the reader hands over the bytes up to the next frame
// boundary as one cut or bad frame and carries on from that boundary. A
// boundary is "LEN SP <" with LEN a count of at most max whose frame is
// followed by another length (or the end of what is buffered), so a digit
// inside a message is seldom taken for one.
type frameReader struct {
	r         io.Reader
	buf       []byte
	start     int // first unread byte
	end       int // end of buffered data
	max       int
	maxDigits int // digits of max: a longer count is over it
	mode      Framing
	detected  bool  // mode was chosen from the first bytes (FramingAuto)
	octets    int   // well-formed octet-counted frames so far
	err       error // sticky read error, returned once the buffer is drained
	skipEOL   bool  // skip up to the next delimiter after a cut frame
	resync    bool  // skip up to the next octet-counting boundary
	// discarded counts the bytes skipped after cut frames and while
	// resynchronising: received, and in no frame.
	discarded int64
}

func newFrameReader(r io.Reader, limit int, mode Framing) *frameReader {
	if mode == "" {
		mode = FramingAuto
	}
	return &frameReader{r: r, buf: make([]byte, max(2*limit, 64<<10)+16), max: limit,
		maxDigits: len(strconv.Itoa(limit)), mode: mode}
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

// Next returns the next message and how it ended. At the end of the
// stream it returns io.EOF (or the read error) after the last frame; a
// final message without a trailer is still returned.
func (f *frameReader) Next() (frame []byte, kind frameKind, err error) {
	for {
		if f.skipEOL {
			if i := indexEOL(f.buf[f.start:f.end]); i >= 0 {
				f.discarded += int64(i)
				f.start += i + 1
				f.skipEOL = false
			} else {
				f.discarded += int64(f.end - f.start)
				f.start, f.end = 0, 0
				if !f.fill() {
					return nil, frameWhole, f.finalErr()
				}
				continue
			}
		}
		if f.resync {
			at, safe := f.boundary(f.start)
			if at >= 0 {
				f.discarded += int64(at - f.start)
				f.start, f.resync = at, false
			} else {
				f.discarded += int64(safe - f.start)
				f.start = safe
				if !f.fill() {
					f.discarded += int64(f.end - f.start)
					f.start = f.end
					return nil, frameWhole, f.finalErr()
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
				return nil, frameWhole, f.finalErr()
			}
			continue
		}
		if f.mode == FramingAuto {
			f.detected = true
			if c := f.buf[f.start]; c >= '1' && c <= '9' {
				f.mode = FramingOctetCounting
			} else {
				f.mode = FramingNonTransparent
			}
		}
		if f.mode == FramingOctetCounting {
			frame, kind, ok := f.octet()
			if ok {
				return frame, kind, nil
			}
			continue
		}
		if frame, kind, ok := f.trailer(); ok {
			return frame, kind, nil
		}
		if !f.fill() {
			// The stream ended inside a frame: hand over what there is. At
			// EOF that is the last message, sent without a trailer; after a
			// read error (a timeout) it may be cut.
			if f.start < f.end {
				frame := trimCR(f.buf[f.start:f.end])
				f.start = f.end
				kind := frameWhole
				if !errors.Is(f.err, io.EOF) {
					kind = frameIncomplete
				}
				return frame, kind, nil
			}
			return nil, frameWhole, f.finalErr()
		}
	}
}

// Results of reading a length prefix.
const (
	prefixOK       = iota
	prefixMore     // the buffer ends inside the prefix
	prefixNotCount // no length here
	prefixOver     // a length over max
)

// maxCountDigits is the longest digit run read as a (lying) count; a
// longer one is not a length at all.
const maxCountDigits = 20

// prefix reads "LEN SP" at i: the count and where the message starts.
func (f *frameReader) prefix(i int) (n, body, status int) {
	j := i
	for ; j < f.end && f.buf[j] >= '0' && f.buf[j] <= '9' && j-i <= maxCountDigits; j++ {
		if j-i < f.maxDigits {
			n = n*10 + int(f.buf[j]-'0')
		}
	}
	switch {
	case j == i || f.buf[i] == '0' || j-i > maxCountDigits:
		return 0, 0, prefixNotCount
	case j == f.end:
		return 0, 0, prefixMore
	case f.buf[j] != ' ':
		return 0, 0, prefixNotCount
	case j-i > f.maxDigits || n > f.max:
		return n, j + 1, prefixOver
	}
	return n, j + 1, prefixOK
}

// octet reads "LEN SP MSG". It reports false when it needs more data or
// changed mode. A stream auto-detected as octet-counted whose first frame
// has no length was not octet-counted after all: it falls back to
// trailers for good.
func (f *frameReader) octet() (frame []byte, kind frameKind, ok bool) {
	n, body, status := f.prefix(f.start)
	switch status {
	case prefixMore:
		if !f.fill() {
			end := min(f.end, f.start+f.max)
			frame = f.buf[f.start:end]
			f.discarded += int64(f.end - end)
			f.start = f.end
			return frame, frameIncomplete, true
		}
		return nil, frameWhole, false
	case prefixNotCount:
		if f.detected && f.octets == 0 {
			f.mode = FramingNonTransparent
			return nil, frameWhole, false
		}
		return f.cutToBoundary(f.start+1, frameBad)
	case prefixOver:
		return f.cutToBoundary(body, frameCut)
	}
	for f.end-body < n {
		// Make room and read; fill may move the frame to the front.
		off := body - f.start
		if !f.fill() {
			frame = f.buf[f.start+off : f.end]
			f.start = f.end
			return frame, frameIncomplete, true
		}
		body = f.start + off
	}
	f.octets++
	frame = f.buf[body : body+n]
	f.start = body + n
	return frame, frameWhole, true
}

// cutToBoundary returns the bytes from f.start to the next octet-counting
// boundary at or after from, as one frame of the given kind: all of them
// when they fit in max, else the first max and the rest discarded while
// resynchronising.
func (f *frameReader) cutToBoundary(from int, kind frameKind) ([]byte, frameKind, bool) {
	for {
		at, safe := f.boundary(from)
		if at >= 0 && at-f.start <= f.max {
			frame := f.buf[f.start:at]
			f.start = at
			return frame, kind, true
		}
		if at >= 0 || safe-f.start >= f.max {
			frame := f.buf[f.start : f.start+f.max]
			f.start += f.max
			f.resync = true
			return frame, kind, true
		}
		// Searched up to safe: read on from there.
		off := safe - f.start
		if !f.fill() {
			end := min(f.end, f.start+f.max)
			frame := f.buf[f.start:end]
			f.discarded += int64(f.end - end)
			f.start = f.end
			return frame, kind, true
		}
		from = f.start + off
	}
}

// boundary finds the next octet-counting frame boundary at or after from:
// at is its index, or -1 when the buffer holds none, and then everything
// before safe holds none either (safe stops at a prefix the buffer cuts).
func (f *frameReader) boundary(from int) (at, safe int) {
	for i := from; i < f.end; i++ {
		if c := f.buf[i]; c < '1' || c > '9' {
			continue
		}
		n, body, status := f.prefix(i)
		if status == prefixMore || status == prefixOK && body == f.end {
			return -1, i
		}
		if status != prefixOK || f.buf[body] != '<' {
			continue
		}
		// Believe the count when the frame it announces ends where the
		// buffer does, or where another one starts.
		if next := body + n; next >= f.end || f.buf[next] >= '1' && f.buf[next] <= '9' || isSpace(f.buf[next]) {
			return i, i
		}
	}
	return -1, f.end
}

// trailer finds a message ended by LF or NUL in the buffer. A message
// longer than max is cut there and the rest skipped up to the delimiter.
func (f *frameReader) trailer() (frame []byte, kind frameKind, ok bool) {
	data := f.buf[f.start:f.end]
	lim := min(len(data), f.max+1)
	if i := indexEOL(data[:lim]); i >= 0 && i <= f.max {
		f.start += i + 1
		return trimCR(data[:i]), frameWhole, true
	}
	if len(data) > f.max {
		f.start += f.max
		f.skipEOL = true
		return data[:f.max], frameCut, true
	}
	return nil, frameWhole, false
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
