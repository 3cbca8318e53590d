// Package jsonlex reads JSON text (RFC 8259) without building a tree and
// without allocating for anything but unescaped strings. It is the one JSON
// reader of the hot path: the event codec (ingest/event) pulls typed values
// key by key with a Lexer, and the JSON decoders (Suricata EVE, Zeek, diode
// health) walk a line's members as raw Values with EachMember.
//
// Strings are returned as substrings of the input unless they hold escapes;
// an escaped string is unescaped into one buffer of the escaped length (one
// allocation). A lone or unpaired UTF-16 surrogate in a \u escape becomes
// U+FFFD, as encoding/json does; bytes that are not valid UTF-8 are kept as
// they are. Nesting deeper than MaxDepth is an error.
package jsonlex

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of objects and arrays a Lexer will walk.
const MaxDepth = 64

// ErrDepth reports nesting deeper than MaxDepth.
var ErrDepth = errors.New("invalid JSON: nested too deep")

// SyntaxError is malformed JSON: what was wrong and the byte offset into
// the input where it was found.
type SyntaxError struct {
	What   string // e.g. "want ':'"
	Offset int
}

func (e *SyntaxError) Error() string {
	return "invalid JSON: " + e.What + " at offset " + strconv.Itoa(e.Offset)
}

// Lexer reads JSON values from a string, front to back. The zero Lexer
// reads an empty input; New starts one. Each read skips the white space
// before the value; after an error the position is unspecified.
type Lexer struct {
	s string
	i int
}

// New returns a Lexer at the start of s.
func New(s string) Lexer { return Lexer{s: s} }

// Offset returns the byte offset of the next unread byte.
func (l *Lexer) Offset() int { return l.i }

func (l *Lexer) fail(what string) error {
	if l.i >= len(l.s) {
		what = "unexpected end (" + what + ")"
	}
	return &SyntaxError{What: what, Offset: l.i}
}

func (l *Lexer) space() {
	s, i := l.s, l.i
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	l.i = i
}

// Peek skips white space and returns the next byte without consuming it,
// or 0 at the end of the input. It tells the kind of the next value: '{',
// '[', '"', 't', 'f', 'n', or '-' or a digit for a number.
func (l *Lexer) Peek() byte {
	l.space()
	if l.i >= len(l.s) {
		return 0
	}
	return l.s[l.i]
}

// Expect consumes the byte c after optional white space.
func (l *Lexer) Expect(c byte) error {
	if l.Peek() != c || l.i >= len(l.s) {
		return l.fail("want " + strconv.QuoteRune(rune(c)))
	}
	l.i++
	return nil
}

// End checks that only white space remains.
func (l *Lexer) End() error {
	if l.Peek() != 0 || l.i < len(l.s) {
		return l.fail("data after the value")
	}
	return nil
}

// Null consumes a null literal if one is next and reports whether it did.
func (l *Lexer) Null() bool {
	if l.Peek() == 'n' && strings.HasPrefix(l.s[l.i:], "null") {
		l.i += 4
		return true
	}
	return false
}

// Members reads an object, calling fn with each key (unescaped) in order;
// fn must consume the member's value with one of the Lexer's reads.
// An error from fn stops the walk and is returned.
func (l *Lexer) Members(fn func(key string) error) error { return l.members(fn, true) }

// members is Members; without build, keys with escapes are checked and
// passed to fn as "". (Skip walks objects without it: a callback per
// member costs a tenth of a skipped line.)
func (l *Lexer) members(fn func(key string) error, build bool) error {
	if err := l.Expect('{'); err != nil {
		return err
	}
	if l.Peek() == '}' {
		l.i++
		return nil
	}
	for {
		k, err := l.str(build)
		if err != nil {
			return err
		}
		if err := l.Expect(':'); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
		switch l.Peek() {
		case ',':
			l.i++
		case '}':
			l.i++
			return nil
		default:
			return l.fail("want ',' or '}'")
		}
	}
}

// Elements reads an array, calling fn once per element; fn must consume
// the element with one of the Lexer's reads.
func (l *Lexer) Elements(fn func() error) error {
	if err := l.Expect('['); err != nil {
		return err
	}
	if l.Peek() == ']' {
		l.i++
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		switch l.Peek() {
		case ',':
			l.i++
		case ']':
			l.i++
			return nil
		default:
			return l.fail("want ',' or ']'")
		}
	}
}

// Number reads a number (RFC 8259 section 6: -?int(.frac)?([eE][+-]?digits)?)
// and returns its text.
func (l *Lexer) Number() (string, error) {
	l.space()
	start := l.i
	if l.i < len(l.s) && l.s[l.i] == '-' {
		l.i++
	}
	switch {
	case l.i < len(l.s) && l.s[l.i] == '0':
		l.i++
	case l.digits() == 0:
		return "", l.fail("want a number")
	}
	if l.i < len(l.s) && l.s[l.i] == '.' {
		l.i++
		if l.digits() == 0 {
			return "", l.fail("want a digit")
		}
	}
	if l.i < len(l.s) && (l.s[l.i] == 'e' || l.s[l.i] == 'E') {
		l.i++
		if l.i < len(l.s) && (l.s[l.i] == '+' || l.s[l.i] == '-') {
			l.i++
		}
		if l.digits() == 0 {
			return "", l.fail("want a digit")
		}
	}
	return l.s[start:l.i], nil
}

func (l *Lexer) digits() int {
	start := l.i
	for l.i < len(l.s) && l.s[l.i] >= '0' && l.s[l.i] <= '9' {
		l.i++
	}
	return l.i - start
}

// Uint reads a number that must be an integer in [0, max].
func (l *Lexer) Uint(max uint64) (uint64, error) {
	tok, err := l.Number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(tok, 10, 64)
	if err != nil {
		return 0, err
	}
	if v > max {
		return 0, errors.New(tok + " out of range")
	}
	return v, nil
}

// Int reads a number that must be an integer that fits in bits bits.
func (l *Lexer) Int(bits int) (int64, error) {
	tok, err := l.Number()
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(tok, 10, bits)
}

// plain marks the bytes that stand for themselves in a JSON string: all
// but the quote, the backslash and control characters.
var plain = func() (t [256]bool) {
	for c := 0x20; c < len(t); c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Str reads a string and returns it unescaped: a substring of the input
// when it has no escapes, else a new string.
func (l *Lexer) Str() (string, error) { return l.str(true) }

// SkipStr reads and checks a string without building its value.
func (l *Lexer) SkipStr() error {
	_, err := l.str(false)
	return err
}

func (l *Lexer) str(build bool) (string, error) {
	if err := l.Expect('"'); err != nil {
		return "", err
	}
	start, s := l.i, l.s
	i := start
	for i < len(s) && plain[s[i]] {
		i++
	}
	switch {
	case i >= len(s):
		l.i = i
		return "", l.fail("unterminated string")
	case l.s[i] == '"':
		l.i = i + 1
		return l.s[start:i], nil
	case l.s[i] != '\\':
		l.i = i
		return "", l.fail("control character in string")
	}
	l.i = i
	return l.unescape(start, build)
}

// unescape returns the string that starts at start and whose first
// backslash is at l.i. It copies runs of plain bytes at once into a builder
// sized to the escaped text, which the unescaped one never exceeds.
// Without build it only consumes and checks the string.
func (l *Lexer) unescape(start int, build bool) (string, error) {
	var b strings.Builder
	if build {
		b.Grow(l.closing(l.i) - start)
		b.WriteString(l.s[start:l.i])
	}
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch {
		case c == '"':
			l.i++
			return b.String(), nil
		case c < 0x20:
			return "", l.fail("control character in string")
		case c != '\\':
			j, str := l.i+1, l.s
			for j < len(str) && plain[str[j]] {
				j++
			}
			if build {
				b.WriteString(l.s[l.i:j])
			}
			l.i = j
			continue
		}
		if l.i+1 >= len(l.s) {
			break
		}
		esc := l.s[l.i+1]
		l.i += 2
		var r rune
		switch esc {
		case '"', '\\', '/':
			r = rune(esc)
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			var ok bool
			if r, ok = l.hex4(); !ok {
				return "", l.fail("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r = l.lowSurrogate(r)
			}
		default:
			return "", l.fail("bad escape")
		}
		if build {
			b.WriteRune(r)
		}
	}
	return "", l.fail("unterminated string")
}

// lowSurrogate pairs the high surrogate hi with a \u escape that follows,
// consuming it only when the two make one code point; otherwise it returns
// U+FFFD.
func (l *Lexer) lowSurrogate(hi rune) rune {
	if !strings.HasPrefix(l.s[l.i:], `\u`) {
		return utf8.RuneError
	}
	save := l.i
	l.i += 2
	if lo, ok := l.hex4(); ok {
		if r := utf16.DecodeRune(hi, lo); r != utf8.RuneError {
			return r
		}
	}
	l.i = save
	return utf8.RuneError
}

// closing returns the offset of the first unescaped quote at or after i,
// or len(l.s) when there is none.
func (l *Lexer) closing(i int) int {
	for {
		q := strings.IndexByte(l.s[i:], '"')
		if q < 0 {
			return len(l.s)
		}
		q += i
		n := 0
		for j := q - 1; j >= i && l.s[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		i = q + 1
	}
}

func (l *Lexer) hex4() (rune, bool) {
	if len(l.s)-l.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(l.s[l.i : l.i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	l.i += 4
	return r, true
}

// Skip reads and checks any one value.
func (l *Lexer) Skip() error { return l.skip(0) }

// Value reads and checks any one value and returns its text.
func (l *Lexer) Value() (string, error) {
	l.space()
	start := l.i
	if err := l.skip(0); err != nil {
		return "", err
	}
	return l.s[start:l.i], nil
}

func (l *Lexer) skip(depth int) error {
	if depth > MaxDepth {
		return ErrDepth
	}
	switch c := l.Peek(); c {
	case '"':
		return l.SkipStr()
	case '{', '[':
		return l.skipComposite(depth)
	case 't', 'f', 'n':
		for _, lit := range [...]string{"true", "false", "null"} {
			if strings.HasPrefix(l.s[l.i:], lit) {
				l.i += len(lit)
				return nil
			}
		}
		return l.fail("bad literal")
	default:
		_, err := l.Number()
		return err
	}
}

// skipComposite reads and checks the object or array at l.i, without a
// callback per member.
func (l *Lexer) skipComposite(depth int) error {
	obj := l.s[l.i] == '{'
	end := byte(']')
	if obj {
		end = '}'
	}
	l.i++
	if l.Peek() == end {
		l.i++
		return nil
	}
	for {
		if obj {
			if err := l.SkipStr(); err != nil {
				return err
			}
			if err := l.Expect(':'); err != nil {
				return err
			}
		}
		if err := l.skip(depth + 1); err != nil {
			return err
		}
		switch l.Peek() {
		case ',':
			l.i++
		case end:
			l.i++
			return nil
		default:
			return l.fail("want ',' or '" + string(end) + "'")
		}
	}
}
