// Package grafana turns a panel's SQL into the statement ClickHouse runs,
// as Grafana and its ClickHouse data source (grafana-clickhouse-datasource
// v4) do, so that tests and the preview run the dashboards' SQL exactly as
// a Grafana would. The rules, from the data source's README ("Macros") and
// Grafana's variable syntax documentation:
//
//  1. In the browser, $__conditionalAll(condition, $var) becomes 1=1 when
//     the variable has every value selected ("All", or nothing), else the
//     condition (the plugin's applyConditionalAll).
//  2. Grafana interpolates variables: ${var:singlequote} is each selected
//     value (every value for "All") in single quotes, ' escaped as \',
//     joined by commas.
//  3. The plugin's backend expands its macros over the panel's time range:
//     $__timeFilter(c) is c >= toDateTime(<from s>) AND c <= toDateTime(<to s>);
//     $__timeFilter_ms(c) the same with fromUnixTimestamp64Milli(<ms>);
//     $__dateFilter(c) is c >= toDate('<from day>') AND c <= toDate('<to day>');
//     $__fromTime and $__toTime are toDateTime(<unix s>), $__fromTime_ms and
//     $__toTime_ms fromUnixTimestamp64Milli(<unix ms>);
//     $__timeInterval(c) is toStartOfInterval(toDateTime(c), INTERVAL <s> second)
//     and $__timeInterval_ms(c) toStartOfInterval(toDateTime64(c, 3), INTERVAL <ms> millisecond);
//     $__interval_s is the interval in whole seconds (at least 1).
//
// Any other $__macro or variable form is an error: the dashboards must not
// use what these rules do not cover.
package grafana

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// Range is a panel's time range and interval (Grafana's $__interval: the
// range over the panel's maximum data points, rounded).
type Range struct {
	From, To time.Time
	Interval time.Duration
}

// Variable is a dashboard variable's state: the selected values, or All
// with every value in Options.
type Variable struct {
	Selected []string
	All      bool
	Options  []string
}

// Expand returns the statement ClickHouse runs for sql over r with vars.
func Expand(sql string, r Range, vars map[string]Variable) (string, error) {
	s, err := conditionalAll(sql, vars)
	if err != nil {
		return "", err
	}
	if s, err = interpolate(s, vars); err != nil {
		return "", err
	}
	return macros(s, r)
}

const conditionalAllMacro = "$__conditionalAll("

// conditionalAll applies rule 1, last occurrence first as the plugin does.
func conditionalAll(sql string, vars map[string]Variable) (string, error) {
	for {
		i := strings.LastIndex(sql, conditionalAllMacro)
		if i < 0 {
			return sql, nil
		}
		args, end, err := macroArgs(sql, i+len(conditionalAllMacro)-1)
		if err != nil {
			return "", err
		}
		if len(args) != 2 {
			return "", fmt.Errorf("$__conditionalAll takes 2 arguments, got %d", len(args))
		}
		name := strings.TrimPrefix(strings.TrimSpace(args[1]), "$")
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("$__conditionalAll: no variable %s", name)
		}
		phrase := args[0]
		if v.All || len(v.Selected) == 0 {
			phrase = "1=1"
		}
		sql = sql[:i] + phrase + sql[end:]
	}
}

// macroArgs splits the arguments of the macro call whose "(" is at open,
// on top-level commas, and returns them with the offset after ")".
func macroArgs(s string, open int) ([]string, int, error) {
	depth, start := 0, open+1
	var args []string
	var quote byte
	for i := open; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return append(args, s[start:i]), i + 1, nil
			}
		case c == ',' && depth == 1:
			args = append(args, s[start:i])
			start = i + 1
		}
	}
	return nil, 0, fmt.Errorf("unclosed macro call at %d", open)
}

var variable = regexp.MustCompile(`\$\{(\w+)(?::(\w+))?\}|\$([a-zA-Z]\w*)`)

// interpolate applies rule 2.
func interpolate(sql string, vars map[string]Variable) (string, error) {
	var err error
	out := variable.ReplaceAllStringFunc(sql, func(m string) string {
		sub := variable.FindStringSubmatch(m)
		name, format := sub[1], sub[2]
		if sub[3] != "" {
			name = sub[3]
		}
		v, ok := vars[name]
		switch {
		case !ok:
			err = fmt.Errorf("no variable %s", name)
		case format != "singlequote":
			err = fmt.Errorf("variable %s used as %q: only ${%s:singlequote} is expanded", name, m, name)
		}
		values := v.Selected
		if v.All {
			values = v.Options
		}
		quoted := make([]string, len(values))
		for i, x := range values {
			quoted[i] = "'" + strings.ReplaceAll(x, "'", `\'`) + "'"
		}
		return strings.Join(quoted, ",")
	})
	return out, err
}

var macro = regexp.MustCompile(`\$__(\w+)(\(([^()]*)\))?`)

// macros applies rule 3.
func macros(sql string, r Range) (string, error) {
	from, to := r.From.Unix(), r.To.Unix()
	seconds := int64(math.Max(r.Interval.Seconds(), 1))
	ms := int64(math.Max(float64(r.Interval.Milliseconds()), 1))
	var err error
	out := macro.ReplaceAllStringFunc(sql, func(m string) string {
		sub := macro.FindStringSubmatch(m)
		name, hasArgs, col := sub[1], sub[2] != "", strings.TrimSpace(sub[3])
		if !hasArgs {
			switch name {
			case "fromTime":
				return fmt.Sprintf("toDateTime(%d)", from)
			case "toTime":
				return fmt.Sprintf("toDateTime(%d)", to)
			case "fromTime_ms":
				return fmt.Sprintf("fromUnixTimestamp64Milli(%d)", r.From.UnixMilli())
			case "toTime_ms":
				return fmt.Sprintf("fromUnixTimestamp64Milli(%d)", r.To.UnixMilli())
			case "interval_s":
				return fmt.Sprint(seconds)
			}
		} else {
			switch name {
			case "timeFilter":
				return fmt.Sprintf("%s >= toDateTime(%d) AND %s <= toDateTime(%d)", col, from, col, to)
			case "timeFilter_ms":
				return fmt.Sprintf("%s >= fromUnixTimestamp64Milli(%d) AND %s <= fromUnixTimestamp64Milli(%d)", col, r.From.UnixMilli(), col, r.To.UnixMilli())
			case "dateFilter":
				return fmt.Sprintf("%s >= toDate('%s') AND %s <= toDate('%s')", col, r.From.Format("2006-01-02"), col, r.To.Format("2006-01-02"))
			case "timeInterval":
				return fmt.Sprintf("toStartOfInterval(toDateTime(%s), INTERVAL %d second)", col, seconds)
			case "timeInterval_ms":
				return fmt.Sprintf("toStartOfInterval(toDateTime64(%s, 3), INTERVAL %d millisecond)", col, ms)
			}
		}
		err = fmt.Errorf("macro %s is not one of the data source's", m)
		return m
	})
	return out, err
}
