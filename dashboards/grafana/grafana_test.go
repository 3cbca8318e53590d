package grafana

import (
	"strings"
	"testing"
	"time"
)

// The examples of the data source's README, and Grafana's singlequote.
func TestExpand(t *testing.T) {
	r := Range{From: time.UnixMilli(1415792726123), To: time.UnixMilli(1447328726456), Interval: 20 * time.Second}
	vars := map[string]Variable{
		"loc":  {Selected: []string{"Berlin", "O'Hare"}},
		"zone": {All: true, Options: []string{"Z1", "Z2"}},
	}
	for sql, want := range map[string]string{
		"$__timeFilter(time)":        "time >= toDateTime(1415792726) AND time <= toDateTime(1447328726)",
		"$__timeFilter_ms(time)":     "time >= fromUnixTimestamp64Milli(1415792726123) AND time <= fromUnixTimestamp64Milli(1447328726456)",
		"$__dateFilter(d)":           "d >= toDate('2014-11-12') AND d <= toDate('2015-11-12')",
		"$__fromTime, $__toTime":     "toDateTime(1415792726), toDateTime(1447328726)",
		"$__fromTime_ms":             "fromUnixTimestamp64Milli(1415792726123)",
		"$__timeInterval(column)":    "toStartOfInterval(toDateTime(column), INTERVAL 20 second)",
		"$__timeInterval_ms(column)": "toStartOfInterval(toDateTime64(column, 3), INTERVAL 20000 millisecond)",
		"$__interval_s":              "20",
		"x IN (${loc:singlequote})":  `x IN ('Berlin','O\'Hare')`,
		"WHERE $__conditionalAll(location IN (${loc:singlequote}), $loc)":                                                                     `WHERE location IN ('Berlin','O\'Hare')`,
		"WHERE $__conditionalAll((a IN (${zone:singlequote}) OR b IN (${zone:singlequote})), $zone) AND $__conditionalAll(f(x, 'a,)'), $loc)": "WHERE 1=1 AND f(x, 'a,)')",
		"z IN (${zone:singlequote})": "z IN ('Z1','Z2')",
	} {
		got, err := Expand(sql, r, vars)
		if err != nil || got != want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", sql, got, err, want)
		}
	}
	for _, bad := range []string{"$__unknown", "$loc", "${loc}", "${nope:singlequote}", "$__conditionalAll(a, $nope)", "$__conditionalAll(a"} {
		if got, err := Expand(bad, r, vars); err == nil {
			t.Errorf("%s: expanded to %q, want an error", bad, got)
		}
	}
	// Under a second the interval is 1 s.
	if got, _ := Expand("$__interval_s", Range{Interval: 100 * time.Millisecond}, nil); got != "1" {
		t.Errorf("sub-second interval_s: %s", got)
	}
}

// FuzzExpand: any SQL expands or fails cleanly, and what expands keeps no
// $__conditionalAll for ClickHouse to choke on.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"$__conditionalAll(a IN (${z:singlequote}), $z) AND $__timeFilter(t)",
		"SELECT $__interval_s, $__fromTime", "$__conditionalAll((a, b), $z)", "${z:singlequote}"} {
		f.Add(s)
	}
	r := Range{From: time.Unix(1e9, 0), To: time.Unix(1e9+3600, 0), Interval: time.Minute}
	vars := map[string]Variable{"z": {Selected: []string{"a'b"}}}
	f.Fuzz(func(t *testing.T, sql string) {
		out, err := Expand(sql, r, vars)
		if err == nil && strings.Contains(out, conditionalAllMacro) && !strings.Contains(sql, "'$__conditionalAll(") {
			t.Fatalf("%q expanded to %q", sql, out)
		}
	})
}
