package embedded

import (
	"strings"
	"testing"
)

func TestSplitInsert(t *testing.T) {
	for _, tc := range []struct {
		sql          string
		ok           bool
		head, format string
		data         string
	}{
		{sql: "INSERT INTO t (a, b) FORMAT Native", ok: true, head: "INSERT INTO t (a, b)", format: "Native"},
		{sql: "insert into db.t format TSV\n1\t2\n\n3\t4\n", ok: true, head: "insert into db.t", format: "TSV", data: "1\t2\n\n3\t4\n"},
		{sql: "INSERT INTO t FORMAT TSV \r\n\tx\n", ok: true, head: "INSERT INTO t", format: "TSV", data: "\tx\n"},
		{sql: "INSERT INTO t VALUES (1, 'a\n\nb')", ok: true, head: "INSERT INTO t", format: "Values", data: " (1, 'a\n\nb')"},
		{sql: "/* c */ INSERT INTO `format` (`values`) SETTINGS x = 'FORMAT' FORMAT CSV\n1", ok: true,
			head: "/* c */ INSERT INTO `format` (`values`) SETTINGS x = 'FORMAT'", format: "CSV", data: "1"},
		{sql: "INSERT INTO t -- FORMAT TSV\n FORMAT JSONEachRow {}", ok: true, head: "INSERT INTO t -- FORMAT TSV\n", format: "JSONEachRow", data: "{}"},
		{sql: "INSERT INTO t (a) SELECT 1", ok: false},
		{sql: "INSERT INTO t WITH 1 AS x SELECT x", ok: false},
		{sql: "INSERT INTO t FROM INFILE 'f' FORMAT CSV", ok: false},
		{sql: "SELECT 1 FORMAT Native", ok: false},
		{sql: "INSERT INTO t FORMAT", ok: false},
		{sql: "", ok: false},
	} {
		got, ok := splitInsert(tc.sql)
		if ok != tc.ok {
			t.Errorf("%q: ok = %v", tc.sql, ok)
			continue
		}
		if !ok {
			continue
		}
		if got.head != tc.head || got.format != tc.format || tc.sql[got.data:] != tc.data {
			t.Errorf("%q: got head %q format %q data %q", tc.sql, got.head, got.format, tc.sql[got.data:])
		}
	}
}

func FuzzSplitInsert(f *testing.F) {
	for _, s := range []string{"INSERT INTO t FORMAT TSV\n1", "INSERT INTO t VALUES (1)", "insert /*", "INSERT 'a\\", "INSERT (((FORMAT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		s, ok := splitInsert(sql)
		if !ok {
			return
		}
		if s.data < 0 || s.data > len(sql) || !strings.HasPrefix(sql, s.head) || s.format == "" {
			t.Fatalf("bad split of %q: %+v", sql, s)
		}
	})
}
