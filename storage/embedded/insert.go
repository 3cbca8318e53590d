package embedded

import "strings"

// insertSplit is an INSERT statement cut where its data begins.
type insertSplit struct {
	head   string // the statement without FORMAT clause or data
	format string // input format of the data ("Values" for VALUES)
	data   int    // offset in the statement where the data begins
}

// splitInsert reports whether sql is an INSERT carrying data (FORMAT X or
// VALUES), and where that data begins. Other statements, INSERT ... SELECT
// and INSERT ... FROM INFILE included, return ok false. Only the statement's
// head is examined: the scan stops at the first FORMAT or VALUES keyword
// outside brackets, string literals, quoted identifiers and comments.
func splitInsert(sql string) (s insertSplit, ok bool) {
	l := lexer{s: sql}
	if !strings.EqualFold(l.word(), "INSERT") {
		return s, false
	}
	depth := 0
	for {
		start, tok := l.next()
		switch {
		case tok == "":
			return s, false
		case tok == "(":
			depth++
		case tok == ")":
			depth--
		case depth != 0:
		case strings.EqualFold(tok, "SELECT"), strings.EqualFold(tok, "WITH"), strings.EqualFold(tok, "INFILE"):
			return s, false
		case strings.EqualFold(tok, "VALUES"):
			return insertSplit{head: strings.TrimRight(sql[:start], " \t\r"), format: "Values", data: l.pos}, true
		case strings.EqualFold(tok, "FORMAT"):
			_, name := l.next()
			if !isWord(name) {
				return s, false
			}
			// The data starts after blanks up to and including one newline.
			p := l.pos
			for p < len(sql) && (sql[p] == ' ' || sql[p] == '\t' || sql[p] == '\r') {
				p++
			}
			if p < len(sql) && sql[p] == '\n' {
				p++
			}
			return insertSplit{head: strings.TrimRight(sql[:start], " \t\r"), format: name, data: p}, true
		}
	}
}

// lexer splits SQL into words, quoted tokens and single punctuation bytes,
// skipping blanks and comments.
type lexer struct {
	s   string
	pos int
}

// word returns the next token.
func (l *lexer) word() string { _, t := l.next(); return t }

// next returns the next token and where it starts; "" at the end.
func (l *lexer) next() (int, string) {
	l.skip()
	if l.pos >= len(l.s) {
		return l.pos, ""
	}
	start := l.pos
	c := l.s[l.pos]
	switch {
	case c == '\'' || c == '"' || c == '`':
		l.pos++
		for l.pos < len(l.s) {
			switch l.s[l.pos] {
			case '\\':
				l.pos += 2
				continue
			case c:
				if l.pos+1 < len(l.s) && l.s[l.pos+1] == c { // doubled quote
					l.pos += 2
					continue
				}
				l.pos++
				return start, l.s[start:min(l.pos, len(l.s))]
			}
			l.pos++
		}
		l.pos = len(l.s)
		return start, l.s[start:]
	case isWordByte(c):
		for l.pos < len(l.s) && isWordByte(l.s[l.pos]) {
			l.pos++
		}
	default:
		l.pos++
	}
	return start, l.s[start:l.pos]
}

// skip passes blanks and comments.
func (l *lexer) skip() {
	for l.pos < len(l.s) {
		switch {
		case strings.ContainsRune(" \t\r\n\f\v", rune(l.s[l.pos])):
			l.pos++
		case strings.HasPrefix(l.s[l.pos:], "--") || strings.HasPrefix(l.s[l.pos:], "#"):
			if i := strings.IndexByte(l.s[l.pos:], '\n'); i >= 0 {
				l.pos += i + 1
			} else {
				l.pos = len(l.s)
			}
		case strings.HasPrefix(l.s[l.pos:], "/*"):
			if i := strings.Index(l.s[l.pos+2:], "*/"); i >= 0 {
				l.pos += i + 4
			} else {
				l.pos = len(l.s)
			}
		default:
			return
		}
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}
