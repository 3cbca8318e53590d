package decode

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEachMember(t *testing.T) {
	line := ` {"a":"x\"y","n":-1.5e3,"o":{"k":[1,{"z":null},true]},"e":{}, "u":"\u00e9"} `
	var keys []string
	var vals []string
	err := EachMember(line, func(k string, v JSONValue) error {
		keys = append(keys, k)
		vals = append(vals, v.Str())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys, ","); got != "a,n,o,e,u" {
		t.Errorf("keys %s", got)
	}
	if vals[0] != `x"y` || vals[1] != "-1.5e3" || vals[2] != "" || vals[4] != "é" {
		t.Errorf("values %q", vals)
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a"}`, `{"a":1,}`, `{"a":01}`, `{"a":"\x"}`, `{"a":1} x`,
		`{"a":tru}`, `{"a":"` + "\x01" + `"}`, strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)} {
		if err := EachMember(bad, func(string, JSONValue) error { return nil }); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestEachMemberNoAllocs(t *testing.T) {
	line := `{"event_type":"flow","src_ip":"10.20.1.10","flow":{"bytes_toserver":100,"state":"closed"}}`
	n := testing.AllocsPerRun(100, func() {
		_ = EachMember(line, func(k string, v JSONValue) error {
			if v.Kind() == '{' {
				return v.Object(func(string, JSONValue) error { return nil })
			}
			_ = v.Str()
			return nil
		})
	})
	if n != 0 {
		t.Errorf("%v allocs", n)
	}
}

// FuzzEachMember checks the scanner agrees with encoding/json on which
// objects are valid and never panics.
func FuzzEachMember(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2,{"b":"c"}]}`, `{"a":"\ud83d\ude00"}`, `{"a":1e5}`, `{"a":-0.1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := EachMember(s, func(_ string, v JSONValue) error {
			_ = v.Str()
			_ = v.Object(func(string, JSONValue) error { return nil })
			return v.Array(func(JSONValue) error { return nil })
		})
		var m map[string]json.RawMessage
		want := json.Unmarshal([]byte(s), &m) == nil && strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "{")
		if (err == nil) != want && !strings.Contains(s, `\u`) && depth(s) < maxDepth {
			t.Errorf("%q: err %v, encoding/json valid %v", s, err, want)
		}
	})
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
