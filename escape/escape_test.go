package escape

import (
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	for in, want := range map[string]string{
		"isa3000-c1":                       "isa3000-c1",
		"Zürich Füllstand 液位":              "Zürich Füllstand 液位",
		"fw\x1b]0;pwned\x07\x1b[2J":        `fw\x1b]0;pwned\x07\x1b[2J`, // retitle the window, clear the screen
		"a\tb\nc\rd":                       `a\tb\nc\rd`,
		"del\x7f":                          `del\x7f`,
		"csi\u009b31m":                     `csi\u009b31m`, // 8-bit CSI
		"admin\u202egnp.exe":               `admin\u202egnp.exe`,
		"zero\u200bwidth":                  `zero\u200bwidth`,
		"bad\xff\xfeutf8":                  `bad\xff\xfeutf8`,
		"tag\U000E0041":                    `tag\U000e0041`,
		"line\u2028sep":                    `line\u2028sep`,
		`C:\Windows\system32 (kept as is)`: `C:\Windows\system32 (kept as is)`,
	} {
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSV(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\",\"y\")": `'=HYPERLINK("http://x","y")`,
		"+1+cmd|' /C calc'!A0":           `'+1+cmd|' /C calc'!A0`,
		"-2+3":                           "'-2+3",
		"@SUM(A1)":                       "'@SUM(A1)",
		"-5":                             "-5",
		"+1.5e3":                         "+1.5e3",
		"\t=1":                           `\t=1`, // escaped: starts with a backslash
		"fw\x1b[2J":                      `fw\x1b[2J`,
		"10.30.1.50":                     "10.30.1.50",
		"":                               "",
	} {
		if got := CSV(in); got != want {
			t.Errorf("CSV(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJSON(t *testing.T) {
	v := map[string]string{"device": "fw\x1b]0;x\x07", "note": "a\u009bb\u202ec\x7f", "plain": "ok ü"}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := JSON(b)
	for _, r := range string(out) {
		if unsafe(r) {
			t.Fatalf("unsafe %U left in %s", r, out)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["note"] != v["note"] || back["device"] != v["device"] || back["plain"] != v["plain"] {
		t.Fatalf("round trip: %v %v", back, err)
	}
	if plain := []byte(`{"a":"b"}`); &JSON(plain)[0] != &plain[0] {
		t.Error("safe JSON was copied")
	}
}

// Whatever the input, the output holds nothing a terminal acts on, is
// valid UTF-8, and equals the input when the input was safe; CSV cells
// never start a formula; JSON stays the same value.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"fw\x1b]0;pwned\x07", "=1+1", "-5", "\u202e", "\xff", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Terminal(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range out {
			if unsafe(r) {
				t.Fatalf("Terminal(%q) left %U", s, r)
			}
		}
		if safe := utf8.ValidString(s) && !strings.ContainsFunc(s, unsafe); safe && out != s {
			t.Fatalf("safe %q changed to %q", s, out)
		}
		c := CSV(s)
		if c != "" && strings.IndexByte("=+-@", c[0]) >= 0 {
			if _, err := strconv.ParseFloat(c, 64); err != nil {
				t.Fatalf("CSV(%q) = %q starts a formula", s, c)
			}
		}
		if c != "" {
			var b strings.Builder
			w := csv.NewWriter(&b)
			_ = w.Write([]string{c, "x"})
			w.Flush()
			if rec, err := csv.NewReader(strings.NewReader(b.String())).ReadAll(); err != nil || len(rec) != 1 || rec[0][0] != c {
				t.Fatalf("CSV cell %q did not survive the CSV writer: %q %v", c, rec, err)
			}
		}
		j, _ := json.Marshal(s)
		var want, back string
		_ = json.Unmarshal(j, &want)
		if err := json.Unmarshal(JSON(j), &back); err != nil || back != want {
			t.Fatalf("JSON of %q: %q %v", s, back, err)
		}
	})
}
