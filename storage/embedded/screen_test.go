package embedded

import (
	"strings"
	"testing"
)

func TestScreenInsert(t *testing.T) {
	for sql, ok := range map[string]bool{
		"INSERT INTO t FORMAT Native":                           true,
		"INSERT INTO otsiem.events (a, `b c`) FORMAT RowBinary": true,
		"insert into table t format JSONEachRow":                true,
		"INSERT INTO FUNCTION file('x', 'CSV') FORMAT CSV":      false,
		"INSERT INTO t SETTINGS x = 1 FORMAT CSV":               false,
		"INSERT INTO t (a, file('x')) FORMAT CSV":               false,
		"INSERT INTO t VALUES (1)":                              false,
		"INSERT INTO t FORMAT Template":                         false,
		"INSERT INTO t (a FORMAT CSV":                           false,
		"INSERT INTO 1 FORMAT CSV":                              false,
	} {
		s, split := splitInsert(sql)
		if got := split && screenInsert(s) == ""; got != ok {
			t.Errorf("%q: allowed %v, want %v (%s)", sql, got, ok, screenInsert(s))
		}
	}
}

func TestScreenRead(t *testing.T) {
	for sql, ok := range map[string]bool{
		"SELECT count() FROM events":               true,
		"WITH 1 AS x SELECT x":                     true,
		"SELECT format('{} {}', 'a', 'b')":         true,
		"SELECT 'file(' AS s":                      true,
		"SELECT `file` FROM t":                     true,
		"SHOW TABLES":                              true,
		"SELECT file('/etc/hostname')":             false,
		"SELECT * FROM url('http://x', CSV)":       false,
		"SELECT 1 INTO OUTFILE 'x'":                false,
		"INSERT INTO t SELECT 1":                   false,
		"TRUNCATE TABLE events":                    false,
		"SELECT * FROM S3Cluster('c', 'http://x')": false,
		"": false,
	} {
		if got := screenRead(sql) == ""; got != ok {
			t.Errorf("%q: allowed %v, want %v (%s)", sql, got, ok, screenRead(sql))
		}
	}
}

// FuzzScreen: the screens never panic, and a statement that mentions
// file( outside quotes is never allowed to a reader.
func FuzzScreen(f *testing.F) {
	for _, s := range []string{"SELECT file('x')", "SELECT 1 INTO OUTFILE 'x'", "INSERT INTO t (a) FORMAT CSV\n1",
		"SELECT `file`('x')", "SELECT 'it''s' -- c\n", "/* x */ SHOW TABLES"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		if s, ok := splitInsert(sql); ok {
			_ = screenInsert(s)
		}
		if screenRead(sql) != "" {
			return
		}
		l := lexer{s: sql}
		prev := ""
		for {
			_, tok := l.next()
			if tok == "" {
				return
			}
			if tok == "(" && strings.EqualFold(strings.Trim(prev, "`\""), "file") {
				t.Fatalf("%q allowed with a call of file", sql)
			}
			prev = tok
		}
	})
}
