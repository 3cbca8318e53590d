package jsonlex

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEachMember(t *testing.T) {
	line := ` {"a":"x\"y","n":-1.5e3,"o":{"k":[1,{"z":null},true]},"e":{}, "u":"\u00e9", "k\u00e9y":false} `
	var keys, vals []string
	err := EachMember(line, func(k string, v Value) error {
		keys = append(keys, k)
		vals = append(vals, v.Str())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys, ","); got != "a,n,o,e,u,kéy" {
		t.Errorf("keys %s", got)
	}
	if got := strings.Join(vals, "|"); got != `x"y|-1.5e3|||é|false` {
		t.Errorf("values %q", vals)
	}
	for _, bad := range []string{``, ` `, `[]`, `"a"`, `{`, `{"a"}`, `{"a":1,}`, `{,}`, `{"a":01}`, `{"a":1.}`, `{"a":1e}`,
		`{"a":-}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":1} x`, `{"a":1}}`, `{"a":tru}`, `{"a":nul}`, `{"a":"` + "\x01" + `"}`,
		`{"a":[1,]}`, `{"a":[1 2]}`, `{"a" 1}`, `{a:1}`, `{"a":"x`, `{"a":"x\`,
		strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)} {
		if err := EachMember(bad, func(string, Value) error { return nil }); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := EachMember(`{"a":1,"b":2}`, func(string, Value) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("fn's error: got %v after %d calls", err, n)
	}
	if err := (Value{Raw: "1"}).Object(func(string, Value) error { return nil }); err != ErrNotObject {
		t.Errorf("Object on a number: %v", err)
	}
	var elems []string
	_ = Value{Raw: `[ "a", {"b":[]} ,3]`}.Array(func(v Value) error { elems = append(elems, v.Raw); return nil })
	if got := strings.Join(elems, "|"); got != `"a"|{"b":[]}|3` {
		t.Errorf("elements %s", got)
	}
}

func TestValueKinds(t *testing.T) {
	for raw, want := range map[string]byte{`"s"`: '"', `{}`: '{', `[]`: '[', `null`: 'n', `true`: 't', `false`: 'f', `-1`: '0', `7`: '0', ``: 0} {
		if got := (Value{Raw: raw}).Kind(); got != want {
			t.Errorf("Kind(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestLexerReads(t *testing.T) {
	l := New(` {"port": 502, "neg": -7, "big": 18446744073709551615, "s": "a\tb\ud83d\udd25\ud800x", "n": null} `)
	var port, big uint64
	var neg int64
	var s string
	err := l.Members(func(k string) error {
		var err error
		switch k {
		case "port":
			port, err = l.Uint(65535)
		case "neg":
			neg, err = l.Int(32)
		case "big":
			big, err = l.Uint(1<<64 - 1)
		case "s":
			s, err = l.Str()
		default:
			if !l.Null() {
				t.Errorf("%s: want null", k)
			}
		}
		return err
	})
	if err != nil || l.End() != nil {
		t.Fatalf("%v, end %v", err, l.End())
	}
	if port != 502 || neg != -7 || big != 1<<64-1 || s != "a\tb🔥\uFFFDx" {
		t.Errorf("port %d neg %d big %d s %q", port, neg, big, s)
	}
	for in, read := range map[string]func(*Lexer) error{
		`70000`: func(l *Lexer) error { _, err := l.Uint(65535); return err },
		`-1`:    func(l *Lexer) error { _, err := l.Uint(10); return err },
		`1.5`:   func(l *Lexer) error { _, err := l.Int(64); return err },
		`"x"`:   func(l *Lexer) error { _, err := l.Number(); return err },
		`1`:     func(l *Lexer) error { _, err := l.Str(); return err },
		`{"a"`:  func(l *Lexer) error { return l.Members(func(string) error { return l.Skip() }) },
		`[1 2]`: func(l *Lexer) error { return l.Elements(func() error { return l.Skip() }) },
	} {
		l := New(in)
		if err := read(&l); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	l = New(`{"a" 1}`)
	err = l.Skip()
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 5 || err.Error() != `invalid JSON: want ':' at offset 5` {
		t.Errorf("syntax error %v", err)
	}
}

func TestNoAllocs(t *testing.T) {
	line := `{"event_type":"flow","src_ip":"10.20.1.10","flow":{"bytes_toserver":100,"state":"closed"},"v":[1,"\"q\""]}`
	n := testing.AllocsPerRun(100, func() {
		_ = EachMember(line, func(k string, v Value) error {
			if v.Kind() == '{' {
				return v.Object(func(string, Value) error { return nil })
			}
			_ = v.Array(func(Value) error { return nil })
			_ = v.Str()
			return nil
		})
		l := New(line)
		_ = l.Skip()
	})
	if n != 0 {
		t.Errorf("%v allocs", n)
	}
}

// FuzzLexer holds the lexer to encoding/json as the oracle: the same
// documents are valid, and a valid one read through the Lexer (strings
// unescaped, numbers as their text) is the value encoding/json reads with
// UseNumber, for valid UTF-8 (encoding/json replaces invalid bytes, jsonlex
// keeps them). EachMember accepts exactly the valid objects.
func FuzzLexer(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2,{"b":"c"}]}`, `{"a":"\ud83d\ude00"}`, `{"a":1e5}`, `{"a":-0.1}`,
		`"x\u00e9\n"`, `[true,false,null]`, `{"a":"\ud800\u0041"}`, `-0`, `1E+2`, `{"\"k":"v","\"k":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := New(s)
		err := l.Skip()
		if err == nil {
			err = l.End()
		}
		valid := json.Valid([]byte(s))
		if (err == nil) != valid && depth(s) <= MaxDepth {
			t.Fatalf("%q: err %v, encoding/json valid %v", s, err, valid)
		}
		isObject := strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "{")
		if err := EachMember(s, func(string, Value) error { return nil }); (err == nil) != (valid && isObject) && depth(s) <= MaxDepth {
			t.Fatalf("%q: EachMember %v", s, err)
		}
		if err != nil {
			return
		}
		// Value.Str's shortcut for strings without escapes agrees with the Lexer.
		_ = EachMember(s, func(_ string, v Value) error {
			if v.Kind() == '"' {
				l := New(v.Raw)
				if want, _ := l.Str(); v.Str() != want {
					t.Fatalf("%q: Value.Str %q, Lexer.Str %q", v.Raw, v.Str(), want)
				}
			}
			return nil
		})
		if !utf8.ValidString(s) {
			return
		}
		l = New(s)
		got, err := read(&l)
		if err != nil {
			t.Fatalf("%q: valid, but the read failed: %v", s, err)
		}
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var want any
		if err := d.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n jsonlex       %#v\n encoding/json %#v", s, got, want)
		}
	})
}

// read builds the value at l as encoding/json's Unmarshal into an any does
// with UseNumber.
func read(l *Lexer) (any, error) {
	switch l.Peek() {
	case '{':
		m := map[string]any{}
		err := l.Members(func(k string) error {
			v, err := read(l)
			m[k] = v
			return err
		})
		return m, err
	case '[':
		a := []any{}
		err := l.Elements(func() error {
			v, err := read(l)
			a = append(a, v)
			return err
		})
		return a, err
	case '"':
		return l.Str()
	case 't', 'f':
		v, err := l.Value()
		return v == "true", err
	case 'n':
		return nil, l.Skip()
	}
	tok, err := l.Number()
	return json.Number(tok), err
}

func depth(s string) int {
	d, m := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '[':
			d++
			m = max(m, d)
		case '}', ']':
			d--
		}
	}
	return m
}
