package jsonlex

import (
	"errors"
	"strings"
)

// ErrNotObject reports a value that should be an object and is not.
var ErrNotObject = errors.New("not a JSON object")

// Value is one JSON value inside a line: its raw text, unparsed, as
// EachMember, Object and Array hand it out.
type Value struct {
	Raw   string // the value's text, e.g. `"tcp"`, `502`, `{"a":1}`
	valid bool   // Raw was checked as part of a valid document
}

// Kind returns the value's JSON type by its first byte: '"' string, '{'
// object, '[' array, 'n' null, 't' or 'f' boolean, '0' number, 0 for an
// empty Value.
func (v Value) Kind() byte {
	if v.Raw == "" {
		return 0
	}
	switch c := v.Raw[0]; c {
	case '"', '{', '[', 'n', 't', 'f':
		return c
	}
	return '0'
}

// Str returns a string value unescaped (a substring of the line unless it
// has escapes), a number or boolean as its text, and "" for null, objects
// and arrays.
func (v Value) Str() string {
	switch v.Kind() {
	case '"':
		if n := len(v.Raw); n >= 2 && v.Raw[n-1] == '"' && strings.IndexByte(v.Raw[1:n-1], '\\') < 0 {
			return v.Raw[1 : n-1] // the common string, checked when its document was
		}
		l := New(v.Raw)
		s, _ := l.Str()
		return s
	case '0', 't', 'f':
		return v.Raw
	}
	return ""
}

// Object calls fn for each member of an object value, in order; see
// EachMember. It returns ErrNotObject for other kinds.
func (v Value) Object(fn func(key string, v Value) error) error {
	if v.Kind() != '{' {
		return ErrNotObject
	}
	if !v.valid {
		return EachMember(v.Raw, fn)
	}
	return members(v.Raw, fn)
}

// Array calls fn for each element of an array value, in order; it does
// nothing for other kinds. An error from fn stops the walk and is returned.
func (v Value) Array(fn func(v Value) error) error {
	if v.Kind() != '[' {
		return nil
	}
	l := New(v.Raw)
	return l.Elements(func() error {
		raw, err := l.Value()
		if err != nil {
			return err
		}
		return fn(Value{Raw: raw, valid: v.valid})
	})
}

// EachMember walks the JSON object in s (surrounding white space allowed)
// and calls fn with each member's key and value, in order, allocating only
// for keys with escapes. The whole text is checked to be valid JSON before
// the first call, so fn never sees a member of a malformed line; an error
// from fn stops the walk and is returned.
func EachMember(s string, fn func(key string, v Value) error) error {
	l := New(s)
	if l.Peek() != '{' {
		return ErrNotObject
	}
	if err := l.Skip(); err != nil {
		return err
	}
	if err := l.End(); err != nil {
		return err
	}
	return members(s, fn)
}

// members walks the members of a valid object.
func members(s string, fn func(key string, v Value) error) error {
	l := New(s)
	return l.Members(func(k string) error {
		raw, _ := l.Value() // checked before
		return fn(k, Value{Raw: raw, valid: true})
	})
}
