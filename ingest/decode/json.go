package decode

import (
	"encoding/json"
	"errors"
	"strings"
)

// JSONValue is one JSON value inside a line: its raw text, unparsed.
type JSONValue struct {
	Raw   string // the value's text, e.g. `"tcp"`, `502`, `{"a":1}`
	valid bool   // Raw was checked as part of a valid document
}

// Kind returns the value's JSON type by its first byte: '"' string, '{'
// object, '[' array, 'n' null, 't' or 'f' boolean, '0' number.
func (v JSONValue) Kind() byte {
	if v.Raw == "" {
		return 0
	}
	switch c := v.Raw[0]; c {
	case '"', '{', '[', 'n', 't', 'f':
		return c
	}
	return '0'
}

// Str returns a string value unquoted (a substring of the line unless it
// has escapes), a number or boolean as its text, and "" for null, objects
// and arrays.
func (v JSONValue) Str() string {
	switch v.Kind() {
	case '"':
		return unquote(v.Raw)
	case '0', 't', 'f':
		return v.Raw
	}
	return ""
}

// Object calls fn for each member of an object value; see EachMember.
func (v JSONValue) Object(fn func(key string, v JSONValue) error) error {
	if v.Kind() != '{' {
		return errNotObject
	}
	if !v.valid {
		return EachMember(v.Raw, fn)
	}
	return members(v.Raw, fn)
}

// Array calls fn for each element of an array value; it does nothing for
// other kinds. The value was validated when its parent was walked.
func (v JSONValue) Array(fn func(v JSONValue) error) error {
	if v.Kind() != '[' {
		return nil
	}
	s := scanner{s: v.Raw, i: 1}
	s.space()
	if s.peek() == ']' {
		return nil
	}
	for {
		start := s.i
		if err := s.value(0); err != nil {
			return err
		}
		if err := fn(JSONValue{Raw: s.s[start:s.i], valid: v.valid}); err != nil {
			return err
		}
		s.space()
		switch s.next() {
		case ',':
			s.space()
		case ']':
			return nil
		default:
			return errSyntax
		}
	}
}

var (
	errNotObject = errors.New("json: not an object")
	errSyntax    = errors.New("json: syntax error")
	errDepth     = errors.New("json: nested too deep")
)

// maxDepth bounds the nesting of JSON values walked.
const maxDepth = 64

// EachMember walks the JSON object in s (surrounding whitespace allowed)
// and calls fn with each member's key and value, in order, without
// allocating. The whole text is checked to be valid JSON before the first
// call, so fn never sees a member of a malformed line; an error from fn
// stops the walk and is returned.
func EachMember(s string, fn func(key string, v JSONValue) error) error {
	sc := scanner{s: s}
	sc.space()
	start := sc.i
	if sc.peek() != '{' {
		return errNotObject
	}
	if err := sc.value(0); err != nil {
		return err
	}
	sc.space()
	if sc.i != len(s) {
		return errSyntax
	}
	return members(s[start:sc.i], fn)
}

// members walks the members of a valid object.
func members(s string, fn func(key string, v JSONValue) error) error {
	sc := scanner{s: s, i: 1}
	sc.space()
	if sc.peek() == '}' {
		return nil
	}
	for {
		ks := sc.i
		_ = sc.str()
		key := unquote(sc.s[ks:sc.i])
		sc.space()
		sc.i++ // ':'
		sc.space()
		vs := sc.i
		_ = sc.value(0)
		if err := fn(key, JSONValue{Raw: sc.s[vs:sc.i], valid: true}); err != nil {
			return err
		}
		sc.space()
		if sc.next() != ',' {
			return nil
		}
		sc.space()
	}
}

// unquote returns the content of a JSON string literal; only strings with
// escapes allocate.
func unquote(raw string) string {
	if len(raw) < 2 {
		return ""
	}
	inner := raw[1 : len(raw)-1]
	if strings.IndexByte(inner, '\\') < 0 {
		return inner
	}
	var out string
	if json.Unmarshal([]byte(raw), &out) != nil {
		return inner
	}
	return out
}

// scanner checks JSON syntax (RFC 8259) over s from i.
type scanner struct {
	s string
	i int
}

func (s *scanner) peek() byte {
	if s.i < len(s.s) {
		return s.s[s.i]
	}
	return 0
}

func (s *scanner) next() byte {
	c := s.peek()
	s.i++
	return c
}

func (s *scanner) space() {
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// value scans one value at depth d.
func (s *scanner) value(d int) error {
	if d > maxDepth {
		return errDepth
	}
	switch c := s.peek(); {
	case c == '{':
		return s.object(d)
	case c == '[':
		return s.array(d)
	case c == '"':
		return s.str()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return errSyntax
}

func (s *scanner) literal(lit string) error {
	if !strings.HasPrefix(s.s[s.i:], lit) {
		return errSyntax
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) object(d int) error {
	s.i++ // '{'
	s.space()
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return errSyntax
		}
		if err := s.str(); err != nil {
			return err
		}
		s.space()
		if s.next() != ':' {
			return errSyntax
		}
		s.space()
		if err := s.value(d + 1); err != nil {
			return err
		}
		s.space()
		switch s.next() {
		case ',':
			s.space()
		case '}':
			return nil
		default:
			return errSyntax
		}
	}
}

func (s *scanner) array(d int) error {
	s.i++ // '['
	s.space()
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := s.value(d + 1); err != nil {
			return err
		}
		s.space()
		switch s.next() {
		case ',':
			s.space()
		case ']':
			return nil
		default:
			return errSyntax
		}
	}
}

// str scans a string literal, checking its escapes.
func (s *scanner) str() error {
	s.i++ // '"'
	for s.i < len(s.s) {
		c := s.s[s.i]
		switch {
		case c == '"':
			s.i++
			return nil
		case c == '\\':
			s.i++
			switch s.peek() {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if s.i+5 > len(s.s) || !isHex4(s.s[s.i+1:s.i+5]) {
					return errSyntax
				}
				s.i += 5
			default:
				return errSyntax
			}
		case c < 0x20:
			return errSyntax
		default:
			s.i++
		}
	}
	return errSyntax
}

func isHex4(h string) bool {
	for i := 0; i < 4; i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// number scans -?int(.frac)?([eE][+-]?digits)?
func (s *scanner) number() error {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return errSyntax
	}
	if s.peek() == '.' {
		s.i++
		if s.digits() == 0 {
			return errSyntax
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if s.digits() == 0 {
			return errSyntax
		}
	}
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.s) && s.s[s.i] >= '0' && s.s[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}
