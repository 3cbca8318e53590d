// Package escape makes untrusted text — device names, log messages,
// anything a syslog sender controls — safe to show. In a terminal, control
// characters become visible escapes instead of commands (ESC ] 0 ; … BEL
// retitles the window, ESC [ 2 J clears it; ECMA-48 control functions,
// 8-bit C1 included); in a CSV cell, a leading =, +, - or @ is quoted so
// that a spreadsheet does not evaluate the cell as a formula (OWASP, "CSV
// Injection"). Only what is shown is escaped: otsiem stores every value
// raw.
//
// Every command that prints stored text uses it: the CLI tables and CSV,
// JSON lines, the console, reviews and reports written for a terminal.
package escape

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// unsafe reports whether a terminal could act on r, or hide text with it:
// C0 controls, DEL, C1 controls, format characters (bidirectional
// overrides and isolates such as U+202E, zero-width characters) and the
// line and paragraph separators.
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r < 0xa0:
		return false
	}
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// Terminal returns s with every character a terminal could act on shown
// as a visible escape: \t, \n and \r; \xNN for the other C0 controls, DEL
// and bytes that are not UTF-8; \uNNNN (\UNNNNNNNN) for C1 controls,
// format characters and separators. Printable text, other scripts
// included, is unchanged; a string with nothing to escape is returned as
// it is, without allocating.
func Terminal(s string) string {
	i := 0
	for i < len(s) {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafe(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case !unsafe(r):
			b.WriteString(s[i : i+size])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case r <= 0xffff:
			b.WriteString(`\u`)
			b.WriteString(pad(strconv.FormatInt(int64(r), 16), 4))
		default:
			b.WriteString(`\U`)
			b.WriteString(pad(strconv.FormatInt(int64(r), 16), 8))
		}
		i += size
	}
	return b.String()
}

// CSV returns s as a safe CSV cell: Terminal's escapes, and a leading '
// when the cell starts with =, +, - or @ and is not a number (-5 stays
// -5; =HYPERLINK(…) becomes '=HYPERLINK(…)). Quoting the cell for the CSV
// format itself is left to the CSV writer.
func CSV(s string) string {
	s = Terminal(s)
	if s != "" && strings.IndexByte("=+-@", s[0]) >= 0 {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}

// JSON returns JSON text (as encoding/json writes it) with the characters
// it leaves as they are but a terminal acts on — DEL, C1 controls, format
// characters — written as \u escapes, which decode to the same value.
// encoding/json already escapes C0 controls and U+2028/U+2029. Outside
// strings JSON text is ASCII punctuation, so escaping every such character
// keeps it valid.
func JSON(b []byte) []byte {
	i := 0
	for i < len(b) {
		if c := b[i]; c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if unsafe(r) {
			break
		}
		i += size
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if !unsafe(r) || (r == utf8.RuneError && size == 1) {
			out = append(out, b[i:i+size]...)
		} else if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			out = append(out, `\u`+pad(strconv.FormatInt(int64(r1), 16), 4)+`\u`+pad(strconv.FormatInt(int64(r2), 16), 4)...)
		} else {
			out = append(out, `\u`+pad(strconv.FormatInt(int64(r), 16), 4)...)
		}
		i += size
	}
	return out
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

func pad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}
