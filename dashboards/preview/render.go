package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/dashboards/grafana"
	"github.com/otsiem/otsiem/dashboards/zones"
	"github.com/otsiem/otsiem/storage"
)

// The page's geometry: Grafana's grid is 24 columns of rows 30 px high
// with 8 px between panels.
const (
	pageWidth = 1600
	rowHeight = 30
	gap       = 8
	header    = 92
)

// dashboardJSON is what the preview reads of a dashboard.
type dashboardJSON struct {
	Title       string
	Description string
	Time        struct{ From, To string }
	Templating  struct {
		List []struct {
			Type, Name, Label string
			Query             string
			IncludeAll        bool
		}
	}
	Panels []panelJSON
}

type panelJSON struct {
	Type, Title, Description string
	GridPos                  struct{ X, Y, W, H int }
	Datasource               struct{ Type string }
	Targets                  []struct {
		RawSql string
		Format int
	}
	Transformations []struct {
		ID      string `json:"id"`
		Options map[string]any
	}
	FieldConfig struct {
		Defaults  fieldConfig
		Overrides []struct {
			Matcher struct {
				ID      string
				Options string
			}
			Properties []struct {
				ID    string
				Value json.RawMessage
			}
		}
	}
	Options map[string]any
}

type fieldConfig struct {
	Unit        string
	Decimals    *float64
	Min, Max    *float64
	DisplayName string
	NoValue     string
	Mappings    []mapping
	Thresholds  *thresholds
	Color       *struct{ Mode, FixedColor string }
	Custom      struct {
		CellOptions       *struct{ Type string } `json:"cellOptions"`
		DrawStyle         string
		FillOpacity       float64
		Stacking          *struct{ Mode string }
		ScaleDistribution *struct {
			Type string
			Log  float64
		}
		InsertNulls any // false, or a gap in ms that breaks the line
		ShowPoints  string
	}
}

type mapping struct {
	Type    string
	Options json.RawMessage
}

type thresholds struct {
	Steps []struct {
		Color string
		Value *float64
	}
}

// field returns the field config of a column: the defaults with the
// overrides that name it applied.
func (p *panelJSON) field(name string) fieldConfig {
	fc := p.FieldConfig.Defaults
	for _, o := range p.FieldConfig.Overrides {
		if o.Matcher.ID != "byName" || o.Matcher.Options != name {
			continue
		}
		for _, pr := range o.Properties {
			switch pr.ID {
			case "mappings":
				_ = json.Unmarshal(pr.Value, &fc.Mappings)
			case "thresholds": // into new values: the defaults' pointers are shared
				fc.Thresholds = nil
				_ = json.Unmarshal(pr.Value, &fc.Thresholds)
			case "color":
				fc.Color = nil
				_ = json.Unmarshal(pr.Value, &fc.Color)
			case "displayName":
				_ = json.Unmarshal(pr.Value, &fc.DisplayName)
			case "unit":
				_ = json.Unmarshal(pr.Value, &fc.Unit)
			case "noValue":
				_ = json.Unmarshal(pr.Value, &fc.NoValue)
			case "custom.cellOptions":
				fc.Custom.CellOptions = nil
				_ = json.Unmarshal(pr.Value, &fc.Custom.CellOptions)
			}
		}
	}
	return fc
}

// Grafana's named colours (dark theme).
var palette = map[string]string{
	"green": "#73BF69", "red": "#F2495C", "dark-red": "#C4162A", "orange": "#FF9830", "yellow": "#FADE2A",
	"blue": "#5794F2", "purple": "#B877D9", "text": "#CCCCDC", "transparent": "transparent",
}

var seriesPalette = []string{"#73BF69", "#F2CC0C", "#8AB8FF", "#FF780A", "#F2495C", "#5794F2", "#B877D9", "#705DA0", "#37872D", "#FADE2A"}

func color(name string) string {
	if c, ok := palette[name]; ok {
		return c
	}
	return name
}

// mapValue applies value mappings: the text to show (empty: the value)
// and the colour ("" for none).
func (fc fieldConfig) mapValue(v string) (text, col string) {
	for _, m := range fc.Mappings {
		switch m.Type {
		case "value":
			var opts map[string]struct{ Text, Color string }
			_ = json.Unmarshal(m.Options, &opts)
			if r, ok := opts[v]; ok {
				return r.Text, color(r.Color)
			}
		case "regex":
			var o struct {
				Pattern string
				Result  struct{ Text, Color string }
			}
			_ = json.Unmarshal(m.Options, &o)
			if re, err := regexp.Compile(o.Pattern); err == nil && re.MatchString(v) {
				return o.Result.Text, color(o.Result.Color)
			}
		case "special":
			var o struct {
				Match  string
				Result struct{ Text, Color string }
			}
			_ = json.Unmarshal(m.Options, &o)
			if o.Match == "empty" && v == "" || o.Match == "null" && v == "" {
				return o.Result.Text, color(o.Result.Color)
			}
		}
	}
	return "", ""
}

// thresholdColor is the colour of a number under the thresholds.
func (fc fieldConfig) thresholdColor(x float64) string {
	if fc.Thresholds == nil {
		return ""
	}
	c := ""
	for _, s := range fc.Thresholds.Steps {
		if s.Value == nil || x >= *s.Value {
			c = color(s.Color)
		}
	}
	return c
}

// format writes a value for people, in the field's unit.
func (fc fieldConfig) format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		if x.IsZero() || x.Year() <= 1970 {
			return ""
		}
		return x.UTC().Format("2006-01-02 15:04:05")
	case net.IP:
		return x.String()
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	if f, ok := number(v); ok {
		return fc.formatNumber(f)
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

func (fc fieldConfig) formatNumber(f float64) string {
	dec := -1
	if fc.Decimals != nil {
		dec = int(*fc.Decimals)
	}
	switch fc.Unit {
	case "percentunit":
		if dec < 0 {
			dec = 1
		}
		return strconv.FormatFloat(f*100, 'f', dec, 64) + "%"
	case "ms":
		return short(f) + " ms"
	case "bps":
		return bits(f)
	}
	if dec >= 0 {
		return strconv.FormatFloat(f, 'f', dec, 64)
	}
	if fc.Unit == "short" {
		return short(f)
	}
	// No unit: the number as it is, as Grafana shows it.
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// short writes a number as Grafana's "short" unit does: 1.23 K, 4.5 Mil.
func short(f float64) string {
	a := math.Abs(f)
	switch {
	case a >= 1e9:
		return strconv.FormatFloat(f/1e9, 'f', 2, 64) + " Bil"
	case a >= 1e6:
		return strconv.FormatFloat(f/1e6, 'f', 2, 64) + " Mil"
	case a >= 1e4:
		return strconv.FormatFloat(f/1e3, 'f', 1, 64) + " K"
	case f == math.Trunc(f):
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

// bits writes a bit rate as Grafana's "bps" unit does.
func bits(f float64) string {
	for _, u := range []struct {
		div  float64
		name string
	}{{1e9, " Gb/s"}, {1e6, " Mb/s"}, {1e3, " kb/s"}} {
		if math.Abs(f) >= u.div {
			return strconv.FormatFloat(f/u.div, 'f', 2, 64) + u.name
		}
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + " b/s"
}

// number reads a scanned value as a number; pointers dereferenced.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// deref dereferences scanned pointers (Nullable columns); nil for NULL.
func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		return v
	}
	if rv.IsNil() {
		return nil
	}
	return rv.Elem().Interface()
}

// table is a query result with values dereferenced.
type table struct {
	cols  []string
	types []string
	rows  [][]any
}

func (t *table) col(name string) int {
	for i, c := range t.cols {
		if c == name {
			return i
		}
	}
	return -1
}

// render builds a dashboard's page and returns it with its height.
func render(ctx context.Context, conn driver.Conn, d *dashboardJSON, now time.Time, uplotJS, uplotCSS string) (string, int, error) {
	from, err := relative(d.Time.From, now)
	if err != nil {
		return "", 0, err
	}
	vars, err := variables(ctx, conn, d)
	if err != nil {
		return "", 0, err
	}
	var b strings.Builder
	var scripts []string
	bottom := 0
	for i := range d.Panels {
		p := &d.Panels[i]
		bottom = max(bottom, p.GridPos.Y+p.GridPos.H)
		w := p.GridPos.W*(pageWidth-gap)/24 - gap
		h := p.GridPos.H*(rowHeight+gap) - gap
		// Grafana's interval: the range over the panel's width in points.
		r := grafana.Range{From: from, To: now, Interval: niceInterval(now.Sub(from) / time.Duration(max(w-80, 100)))}
		// otsiem's plugin computes its panels itself (dashboards/plugin,
		// whose tests pin its frames); the preview runs SQL only.
		plugin := p.Datasource.Type == zones.PluginID
		var tables []*table
		for _, tg := range p.Targets {
			if plugin {
				break
			}
			sql, err := grafana.Expand(tg.RawSql, r, vars)
			if err != nil {
				return "", 0, fmt.Errorf("%s: %w", p.Title, err)
			}
			tb, err := storage.RunSQL(ctx, conn, sql)
			if err != nil {
				return "", 0, fmt.Errorf("%s: %w", p.Title, err)
			}
			t := &table{cols: tb.Columns, types: tb.Types}
			for _, row := range tb.Rows {
				out := make([]any, len(row))
				for j, v := range row {
					out[j] = deref(v)
				}
				t.rows = append(t.rows, out)
			}
			tables = append(tables, t)
		}
		// The preview clicks the first finding of a table listing them, so
		// that the panel of the events behind it shows them.
		if v, ok := vars["finding"]; ok && len(v.Selected) == 1 && v.Selected[0] == "" && len(tables) > 0 {
			if i := tables[0].col("finding_id"); i >= 0 && len(tables[0].rows) > 0 {
				vars["finding"] = grafana.Variable{Selected: []string{fmt.Sprint(tables[0].rows[0][i])}}
			}
		}
		body, script := "", ""
		switch {
		case plugin:
			body = `<div class="text">Drawn by otsiem's Grafana plugin (` + zones.PluginID + `): not previewed here.</div>`
		case p.Type == "stat":
			body = renderStat(p, tables[0])
		case p.Type == "table":
			body = renderTable(p, applyTransforms(p, tables[0]), h-40)
		case p.Type == "timeseries":
			body, script = renderSeries(p, tables[0], i, w-16, h-70, from, now)
		case p.Type == "state-timeline":
			body = renderTimeline(p, tables[0], from, now)
		case p.Type == "bargauge":
			body = renderBars(p, tables[0])
		case p.Type == "text":
			body = `<div class="text">` + markdown(fmt.Sprint(p.Options["content"])) + `</div>`
		default:
			body = "panel type " + html.EscapeString(p.Type) + " not previewed"
		}
		if script != "" {
			scripts = append(scripts, script)
		}
		fmt.Fprintf(&b, `<section class="panel" style="left:%dpx;top:%dpx;width:%dpx;height:%dpx"><h2 title="%s">%s</h2><div class="body">%s</div></section>`,
			gap+p.GridPos.X*(pageWidth-gap)/24, header+p.GridPos.Y*(rowHeight+gap), w, h,
			html.EscapeString(p.Description), html.EscapeString(strings.ReplaceAll(p.Title, "$finding", strings.Join(vars["finding"].Selected, ""))), body)
	}
	var vb strings.Builder
	for _, v := range d.Templating.List {
		val := "All"
		if s := vars[v.Name]; !s.All {
			val = strings.Join(s.Selected, ", ")
			if val == "" {
				val = "—"
			}
		}
		label := v.Label
		if label == "" {
			label = v.Name
		}
		fmt.Fprintf(&vb, `<span class="var"><b>%s</b> %s</span>`, html.EscapeString(label), html.EscapeString(val))
	}
	height := header + bottom*(rowHeight+gap) + gap
	page := fmt.Sprintf(`<!doctype html><html><head><meta charset="utf-8"><title>%s</title><style>%s
%s</style><script>%s</script></head><body>
<header><h1>%s</h1><div class="range">%s to %s UTC</div><div class="vars">%s</div></header>
%s
<script>%s</script></body></html>`,
		html.EscapeString(d.Title), uplotCSS, pageCSS, uplotJS, html.EscapeString(d.Title),
		from.UTC().Format("2006-01-02 15:04"), now.UTC().Format("2006-01-02 15:04"), vb.String(), b.String(), strings.Join(scripts, "\n"))
	return page, height, nil
}

const pageCSS = `
body{margin:0;background:#111217;color:#ccccdc;font:13px/1.35 Inter,"Helvetica Neue",Arial,sans-serif;width:1600px;position:relative}
header{height:84px;padding:10px 16px;box-sizing:border-box}
h1{margin:0 0 4px;font-size:20px;font-weight:500;color:#d8d9da}
.range{position:absolute;right:16px;top:14px;color:#9fa7b3}
.vars{margin-top:8px}.var{display:inline-block;margin-right:10px;padding:3px 8px;background:#22252b;border:1px solid #2c3235;border-radius:2px}
.var b{color:#9fa7b3;font-weight:500;margin-right:6px}
.panel{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:3px;box-sizing:border-box;overflow:hidden}
.panel h2{margin:0;padding:6px 8px;font-size:14px;font-weight:500;color:#d8d9da;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.body{position:absolute;top:32px;left:8px;right:8px;bottom:8px;overflow:hidden}
.stats{display:flex;gap:6px;height:100%}
.stat{flex:1;display:flex;flex-direction:column;justify-content:center;align-items:center;border-radius:2px;min-width:0}
.stat .n{font-size:13px;opacity:.9;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:95%}
.stat .v{font-size:30px;font-weight:500;white-space:nowrap}
table{border-collapse:collapse;width:100%;table-layout:auto;font-size:12px}
th{text-align:left;color:#6e9fff;font-weight:500;padding:4px 6px;border-bottom:1px solid #2c3235;white-space:nowrap}
td{padding:3px 6px;border-bottom:1px solid #22252b;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:420px}
td.colored{color:#fff}
.novalue{display:flex;height:100%;align-items:center;justify-content:center;color:#8e8e8e;font-size:16px}
.more{color:#8e8e8e;font-size:11px;padding:3px 6px}
.bars .row{display:flex;align-items:center;margin:3px 0}.bars .label{width:38%;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;padding-right:8px}
.bars .bar{height:18px;border-radius:2px}.bars .val{padding-left:6px;white-space:nowrap}
.timeline .row{display:flex;align-items:center;height:26px;margin:4px 0}.timeline .name{width:150px;flex:none}
.timeline .track{position:relative;flex:1;height:22px;background:#22252b}
.timeline .seg{position:absolute;top:0;bottom:0}
.axis{display:flex;justify-content:space-between;margin-left:150px;color:#8e8e8e;font-size:11px}
.legend{margin-top:6px;font-size:12px}.legend span{margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.text{font-size:13px;color:#ccccdc}
.u-legend{font-size:12px;color:#ccccdc}
`

// niceInterval rounds an interval up to a step Grafana would pick.
func niceInterval(d time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute,
		5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		if d <= s {
			return s
		}
	}
	return 24 * time.Hour
}

var dataField = regexp.MustCompile(`\$\{__data\.fields\.(\w+)\}`)

// displayName fills ${__data.fields.x} from a row.
func displayName(tmpl string, t *table, row []any) string {
	return dataField.ReplaceAllStringFunc(tmpl, func(m string) string {
		if i := t.col(dataField.FindStringSubmatch(m)[1]); i >= 0 {
			return fmt.Sprint(row[i])
		}
		return ""
	})
}

func reduceOptions(p *panelJSON) (values bool, fields string) {
	ro, _ := p.Options["reduceOptions"].(map[string]any)
	values, _ = ro["values"].(bool)
	fields, _ = ro["fields"].(string)
	return
}

func renderStat(p *panelJSON, t *table) string {
	values, fields := reduceOptions(p)
	colorMode, _ := p.Options["colorMode"].(string)
	type stat struct{ name, value, color string }
	var stats []stat
	add := func(name string, v any) {
		fc := p.field(name)
		s := stat{name: name, value: fc.format(v)}
		if f, ok := number(v); ok {
			s.color = fc.thresholdColor(f)
		}
		if fc.Color != nil && fc.Color.Mode == "fixed" {
			s.color = color(fc.Color.FixedColor)
		}
		stats = append(stats, s)
	}
	if values {
		i := t.col(fields)
		for _, row := range t.rows {
			if i >= 0 {
				name := displayName(p.FieldConfig.Defaults.DisplayName, t, row)
				fc := p.field(name)
				s := stat{name: name, value: fc.format(row[i])}
				if f, ok := number(row[i]); ok {
					s.color = fc.thresholdColor(f)
				}
				stats = append(stats, s)
			}
		}
	} else if len(t.rows) > 0 {
		for i, c := range t.cols {
			add(c, t.rows[0][i])
		}
	}
	if len(stats) == 0 {
		return `<div class="novalue">No data</div>`
	}
	longest := 1
	for _, s := range stats {
		longest = max(longest, len([]rune(s.value)))
	}
	// As Grafana sizes a stat's value to its box: width per value over
	// the characters of the longest, within 14-34 px.
	size := math.Min(34, math.Max(14, float64(p.GridPos.W*(pageWidth/24))/float64(len(stats))/float64(longest)*1.5))
	var b strings.Builder
	b.WriteString(`<div class="stats">`)
	for _, s := range stats {
		style := ""
		switch colorMode {
		case "background":
			if s.color != "" && s.color != "transparent" {
				style = "background:" + s.color + ";color:#fff"
			}
		case "value":
			if s.color != "" && s.color != "transparent" {
				style = "color:" + s.color
			}
		}
		fmt.Fprintf(&b, `<div class="stat" style="%s"><div class="n">%s</div><div class="v" style="font-size:%.0fpx">%s</div></div>`,
			style, html.EscapeString(strings.ReplaceAll(s.name, "_", " ")), size, html.EscapeString(s.value))
	}
	b.WriteString(`</div>`)
	return b.String()
}

// applyTransforms runs the panel's transformations the preview knows:
// organize, groupingToMatrix and filterByValue (regex, include).
func applyTransforms(p *panelJSON, t *table) *table {
	for _, tr := range p.Transformations {
		switch tr.ID {
		case "organize":
			t = organize(t, tr.Options)
		case "groupingToMatrix":
			t = groupingToMatrix(t, tr.Options)
		case "filterByValue":
			t = filterByValue(t, tr.Options)
		}
	}
	return t
}

func organize(t *table, o map[string]any) *table {
	index, _ := o["indexByName"].(map[string]any)
	rename, _ := o["renameByName"].(map[string]any)
	exclude, _ := o["excludeByName"].(map[string]any)
	order := make([]int, 0, len(t.cols))
	for i, c := range t.cols {
		if ex, _ := exclude[c].(bool); !ex {
			order = append(order, i)
		}
	}
	pos := func(i int) float64 {
		if v, ok := index[t.cols[i]].(float64); ok {
			return v
		}
		return 1e9 + float64(i)
	}
	sort.SliceStable(order, func(a, b int) bool { return pos(order[a]) < pos(order[b]) })
	out := &table{}
	for _, i := range order {
		name := t.cols[i]
		if r, ok := rename[name].(string); ok && r != "" {
			name = r
		}
		out.cols = append(out.cols, name)
		out.types = append(out.types, t.types[i])
	}
	for _, row := range t.rows {
		r := make([]any, len(order))
		for j, i := range order {
			r[j] = row[i]
		}
		out.rows = append(out.rows, r)
	}
	return out
}

func groupingToMatrix(t *table, o map[string]any) *table {
	colField, _ := o["columnField"].(string)
	rowField, _ := o["rowField"].(string)
	valField, _ := o["valueField"].(string)
	ci, ri, vi := t.col(colField), t.col(rowField), t.col(valField)
	if ci < 0 || ri < 0 || vi < 0 {
		return t
	}
	var colsOrder, rowsOrder []string
	seen := map[string]bool{}
	cell := map[[2]string]any{}
	for _, row := range t.rows {
		c, r := fmt.Sprint(row[ci]), fmt.Sprint(row[ri])
		if !seen["c"+c] {
			seen["c"+c] = true
			colsOrder = append(colsOrder, c)
		}
		if !seen["r"+r] {
			seen["r"+r] = true
			rowsOrder = append(rowsOrder, r)
		}
		cell[[2]string{r, c}] = row[vi]
	}
	out := &table{cols: append([]string{rowField + "\\" + colField}, colsOrder...)}
	for _, r := range rowsOrder {
		row := []any{r}
		for _, c := range colsOrder {
			v, ok := cell[[2]string{r, c}]
			if !ok && o["emptyValue"] == "zero" {
				v = 0
			}
			row = append(row, v)
		}
		out.rows = append(out.rows, row)
	}
	return out
}

func filterByValue(t *table, o map[string]any) *table {
	filters, _ := o["filters"].([]any)
	out := &table{cols: t.cols, types: t.types}
	for _, row := range t.rows {
		keep := false
		for _, f := range filters {
			fm, _ := f.(map[string]any)
			cfg, _ := fm["config"].(map[string]any)
			opts, _ := cfg["options"].(map[string]any)
			i := t.col(fmt.Sprint(fm["fieldName"]))
			if re, err := regexp.Compile(fmt.Sprint(opts["value"])); err == nil && i >= 0 && re.MatchString(fmt.Sprint(row[i])) {
				keep = true
			}
		}
		if keep {
			out.rows = append(out.rows, row)
		}
	}
	return out
}

func renderTable(p *panelJSON, t *table, height int) string {
	if len(t.rows) == 0 {
		nv := p.FieldConfig.Defaults.NoValue
		if nv == "" {
			nv = "No data"
		}
		return `<div class="novalue">` + html.EscapeString(nv) + `</div>`
	}
	cellH := 24
	if c, _ := p.Options["cellHeight"].(string); c == "md" {
		cellH = 40
	}
	fit := max((height-28)/cellH, 1)
	var b strings.Builder
	b.WriteString("<table><tr>")
	fcs := make([]fieldConfig, len(t.cols))
	for i, c := range t.cols {
		fcs[i] = p.field(c)
		name := c
		if fcs[i].DisplayName != "" {
			name = fcs[i].DisplayName
		}
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(name))
	}
	b.WriteString("</tr>")
	for n, row := range t.rows {
		if n == fit {
			break
		}
		b.WriteString("<tr>")
		for i, v := range row {
			fc := fcs[i]
			text := fc.format(v)
			mapped, col := fc.mapValue(text)
			if mapped != "" {
				text = mapped
			}
			if f, ok := number(v); ok && col == "" {
				col = fc.thresholdColor(f)
			}
			if fc.Custom.CellOptions != nil && fc.Custom.CellOptions.Type == "color-background" && col != "" && col != "transparent" {
				fmt.Fprintf(&b, `<td class="colored" style="background:%s">%s</td>`, col, html.EscapeString(text))
			} else {
				fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(text))
			}
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	if len(t.rows) > fit {
		fmt.Fprintf(&b, `<div class="more">… %d more rows (scroll in Grafana)</div>`, len(t.rows)-fit)
	}
	return b.String()
}

func renderBars(p *panelJSON, t *table) string {
	_, fields := reduceOptions(p)
	i := t.col(fields)
	if i < 0 || len(t.rows) == 0 {
		return `<div class="novalue">No data</div>`
	}
	top := 0.0
	for _, row := range t.rows {
		f, _ := number(row[i])
		top = math.Max(top, f)
	}
	fc := p.FieldConfig.Defaults
	col := seriesPalette[0]
	if fc.Color != nil && fc.Color.FixedColor != "" {
		col = color(fc.Color.FixedColor)
	}
	var b strings.Builder
	b.WriteString(`<div class="bars">`)
	for _, row := range t.rows {
		f, _ := number(row[i])
		fmt.Fprintf(&b, `<div class="row"><div class="label">%s</div><div class="bar" style="width:%.1f%%;background:%s"></div><div class="val">%s</div></div>`,
			html.EscapeString(displayName(fc.DisplayName, t, row)), 55*f/math.Max(top, 1), col, html.EscapeString(fc.format(row[i])))
	}
	b.WriteString(`</div>`)
	return b.String()
}

// series is one line of a wide time series.
type series struct {
	name   string
	values map[int64]float64
}

// wide turns a long result (time, label columns, value columns) into
// series, as the data source does for time series: one per value column
// and combination of labels, named by the display name template or the
// label values.
func wide(p *panelJSON, t *table) ([]int64, []*series) {
	tmpl := p.FieldConfig.Defaults.DisplayName
	byName := map[string]*series{}
	var order []string
	xs := map[int64]bool{}
	for _, row := range t.rows {
		tt, ok := row[0].(time.Time)
		if !ok {
			continue
		}
		x := tt.Unix()
		xs[x] = true
		var labels []string
		labelMap := map[string]string{}
		for i := 1; i < len(row); i++ {
			if s, ok := row[i].(string); ok {
				labels = append(labels, s)
				labelMap[t.cols[i]] = s
			}
		}
		for i := 1; i < len(row); i++ {
			f, ok := number(row[i])
			if !ok {
				continue
			}
			name := t.cols[i]
			if len(labels) > 0 {
				name = strings.Join(labels, " ")
			}
			if tmpl != "" {
				name = regexp.MustCompile(`\$\{__field\.labels\.(\w+)\}`).ReplaceAllStringFunc(tmpl, func(m string) string {
					return labelMap[m[len("${__field.labels."):len(m)-1]]
				})
			}
			s, ok := byName[name]
			if !ok {
				s = &series{name: name, values: map[int64]float64{}}
				byName[name] = s
				order = append(order, name)
			}
			s.values[x] += f
		}
	}
	var times []int64
	for x := range xs {
		times = append(times, x)
	}
	sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
	out := make([]*series, len(order))
	for i, n := range order {
		out[i] = byName[n]
	}
	return times, out
}

func renderSeries(p *panelJSON, t *table, idx, w, h int, from, to time.Time) (string, string) {
	times, ss := wide(p, t)
	if len(ss) == 0 {
		return `<div class="novalue">No data</div>`, ""
	}
	fc := p.FieldConfig.Defaults
	stacked := fc.Custom.Stacking != nil && fc.Custom.Stacking.Mode == "normal"
	bars := fc.Custom.DrawStyle == "bars"
	logScale := fc.Custom.ScaleDistribution != nil && fc.Custom.ScaleDistribution.Type == "log"
	// A gap longer than insertNulls breaks the line, as Grafana does.
	if gap, ok := fc.Custom.InsertNulls.(float64); ok && gap > 0 {
		var filled []int64
		for i, x := range times {
			if i > 0 && float64(x-times[i-1])*1000 > gap {
				filled = append(filled, times[i-1]+int64(gap/1000))
			}
			filled = append(filled, x)
		}
		for _, s := range ss {
			for _, x := range filled {
				if _, ok := s.values[x]; !ok && !containsTime(times, x) {
					s.values[x] = math.NaN()
				}
			}
		}
		times = filled
	}
	data := [][]any{make([]any, len(times))}
	for i, x := range times {
		data[0][i] = x
	}
	cum := make([]float64, len(times))
	type uSeries struct {
		Label  string  `json:"label"`
		Stroke string  `json:"stroke"`
		Fill   string  `json:"fill"`
		Width  float64 `json:"width"`
	}
	var us []uSeries
	var ys [][]any
	for i, s := range ss {
		col := seriesPalette[i%len(seriesPalette)]
		if f := p.field(s.name); f.Color != nil && f.Color.Mode == "fixed" {
			col = color(f.Color.FixedColor)
		}
		y := make([]any, len(times))
		for j, x := range times {
			v := s.values[x]
			if math.IsNaN(v) {
				continue // null: a break in the line
			}
			if stacked {
				cum[j] += v
				v = cum[j]
			}
			if v > 0 || !logScale {
				y[j] = v
			}
		}
		alpha := fc.Custom.FillOpacity / 100
		us = append(us, uSeries{Label: s.name, Stroke: col, Fill: rgba(col, alpha), Width: 1.5})
		ys = append(ys, y)
	}
	if stacked { // the tallest (cumulative) series first, so that the others show in front
		for i, j := 0, len(us)-1; i < j; i, j = i+1, j-1 {
			us[i], us[j] = us[j], us[i]
			ys[i], ys[j] = ys[j], ys[i]
		}
	}
	data = append(data, ys...)
	dj, _ := json.Marshal(data)
	sj, _ := json.Marshal(us)
	unit := fc.Unit
	yMax := "null"
	if fc.Max != nil {
		yMax = strconv.FormatFloat(*fc.Max, 'f', -1, 64)
	}
	script := fmt.Sprintf(`(function(){
var s=%s; var paths=%t?uPlot.paths.bars({size:[0.85,40],align:0}):uPlot.paths.stepped({align:1});
var series=[{}].concat(s.map(function(x){return {label:x.label,stroke:x.stroke,fill:x.fill,width:x.width,paths:paths,points:{show:%t,size:6,fill:x.stroke}};}));
var fmt=function(v){if(v==null)return "";var u=%q;if(u==="percentunit")return (v*100).toFixed(0)+"%%";if(u==="ms")return v+" ms";return Math.abs(v)>=1e4?(v/1e3).toFixed(1)+" K":(+v.toFixed(2))+"";};
var y=%t?{distr:3,log:10,range:function(u,mn,mx){return [0.5, Math.max(mx*2,10)];}}:{range:function(u,mn,mx){return [0, %s!==null?%s:Math.max(mx*1.1,1)];}};
new uPlot({width:%d,height:%d,series:series,scales:{x:{time:true,range:[%d,%d]},y:y},
axes:[{stroke:"#8e8e8e",grid:{stroke:"#2c3235"},ticks:{stroke:"#2c3235"}},{stroke:"#8e8e8e",grid:{stroke:"#2c3235"},ticks:{stroke:"#2c3235"},values:function(u,vs){return vs.map(fmt);},size:60}],
legend:{show:true,live:false},cursor:{show:false}}, %s, document.getElementById("c%d"));
})();`, sj, bars, fc.Custom.ShowPoints == "always", unit, logScale, yMax, yMax, w, h, from.Unix(), to.Unix(), dj, idx)
	return fmt.Sprintf(`<div id="c%d"></div>`, idx), script
}

func containsTime(ts []int64, x int64) bool {
	i := sort.Search(len(ts), func(i int) bool { return ts[i] >= x })
	return i < len(ts) && ts[i] == x
}

func rgba(hex string, a float64) string {
	if len(hex) != 7 || hex[0] != '#' {
		return hex
	}
	r, _ := strconv.ParseUint(hex[1:3], 16, 8)
	g, _ := strconv.ParseUint(hex[3:5], 16, 8)
	b, _ := strconv.ParseUint(hex[5:7], 16, 8)
	return fmt.Sprintf("rgba(%d,%d,%d,%.2f)", r, g, b, a)
}

func renderTimeline(p *panelJSON, t *table, from, to time.Time) string {
	times, ss := wide(p, t)
	if len(ss) == 0 {
		return `<div class="novalue">No data</div>`
	}
	fc := p.FieldConfig.Defaults
	span := float64(to.Unix() - from.Unix())
	var b strings.Builder
	b.WriteString(`<div class="timeline">`)
	legend := map[string]string{}
	for _, s := range ss {
		fmt.Fprintf(&b, `<div class="row"><div class="name">%s</div><div class="track">`, html.EscapeString(s.name))
		for i := 0; i < len(times); {
			v := s.values[times[i]]
			j := i
			for j+1 < len(times) && s.values[times[j+1]] == v {
				j++
			}
			end := to.Unix()
			if j+1 < len(times) {
				end = times[j+1]
			}
			text, col := fc.mapValue(strconv.FormatFloat(v, 'f', -1, 64))
			legend[text] = col
			left := math.Max(float64(times[i]-from.Unix())/span*100, 0)
			width := math.Min(float64(end-times[i])/span*100, 100-left)
			if width > 0 {
				fmt.Fprintf(&b, `<div class="seg" style="left:%.3f%%;width:%.3f%%;background:%s" title="%s"></div>`, left, width, col, html.EscapeString(text))
			}
			i = j + 1
		}
		b.WriteString(`</div></div>`)
	}
	fmt.Fprintf(&b, `<div class="axis"><span>%s</span><span>%s</span><span>%s</span></div>`,
		from.UTC().Format("01-02 15:04"), from.Add(to.Sub(from)/2).UTC().Format("01-02 15:04"), to.UTC().Format("01-02 15:04"))
	b.WriteString(`<div class="legend">`)
	var names []string
	for n := range legend {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, `<span><i style="background:%s"></i>%s</span>`, legend[n], html.EscapeString(n))
	}
	b.WriteString(`</div></div>`)
	return b.String()
}

var bold = regexp.MustCompile(`\*\*([^*]+)\*\*`)

// markdown renders the little Markdown the text panels use: bold.
func markdown(s string) string {
	return bold.ReplaceAllString(html.EscapeString(s), "<b>$1</b>")
}
