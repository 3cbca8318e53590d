package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// board accumulates what dashboards share while one is built: the first
// SQL rewrite error, and the next panel id.
type board struct {
	err    error
	nextID uint32
}

// sql rewrites a named query (or a composition of them) for a panel.
func (b *board) sql(sql string, bind Bind) string {
	s, err := panelSQL(sql, bind)
	if err != nil && b.err == nil {
		b.err = err
	}
	return s
}

// target is the panel query running sql, shaped as format.
func (b *board) target(sql string, format Format, bind Bind) *QueryBuilder {
	return NewQuery(b.sql(sql, bind), format).RefId("A")
}

// id is the next panel id.
func (b *board) id() uint32 {
	b.nextID++
	return b.nextID
}

// Colours, from Grafana's palette, by meaning.
const (
	colorCritical = "dark-red"
	colorHigh     = "red"
	colorMedium   = "orange"
	colorLow      = "yellow"
	colorInfo     = "blue"
	colorOK       = "green"
	colorNeutral  = "text"
)

// valueMappings maps exact values to a text (empty: the value) and a colour.
func valueMappings(m ...[3]string) []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for i, v := range m {
		r := dashboard.ValueMappingResult{Color: cog.ToPtr(v[2]), Index: cog.ToPtr(int32(i))}
		if v[1] != "" {
			r.Text = cog.ToPtr(v[1])
		}
		opts[v[0]] = r
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

// regexMappings colours values matching patterns, in order.
func regexMappings(m ...[2]string) []dashboard.ValueMapping {
	var out []dashboard.ValueMapping
	for i, v := range m {
		out = append(out, dashboard.ValueMapping{RegexMap: &dashboard.RegexMap{Type: dashboard.MappingTypeRegexToText,
			Options: dashboard.DashboardRegexMapOptions{Pattern: v[0],
				Result: dashboard.ValueMappingResult{Color: cog.ToPtr(v[1]), Index: cog.ToPtr(int32(i))}}}})
	}
	return out
}

// emptyAs shows an empty value as text, in a colour.
func emptyAs(text, color string) []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{SpecialValueMap: &dashboard.SpecialValueMap{Type: dashboard.MappingTypeSpecialValue,
		Options: dashboard.DashboardSpecialValueMapOptions{Match: dashboard.SpecialValueMatchEmpty,
			Result: dashboard.ValueMappingResult{Text: cog.ToPtr(text), Color: cog.ToPtr(color), Index: cog.ToPtr(int32(0))}}}}}
}

// severityMappings colour finding severities.
var severityMappings = valueMappings(
	[3]string{"critical", "", colorCritical}, [3]string{"high", "", colorHigh}, [3]string{"medium", "", colorMedium},
	[3]string{"low", "", colorLow}, [3]string{"info", "", colorInfo})

// thresholds are absolute steps: a base colour, then (value, colour) pairs.
func thresholds(base string, steps ...any) *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(steps); i += 2 {
		v := float64(steps[i].(int))
		ts = append(ts, dashboard.Threshold{Value: &v, Color: steps[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

// fixedColor is a single colour for every value.
func fixedColor(c string) *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdFixed).FixedColor(c)
}

// prop is one field-config property of an override.
func prop(id string, value any) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: id, Value: value}
}

// cellColor shows a table column's cells on their mapped colour.
func cellColor() dashboard.DynamicConfigValue {
	return prop("custom.cellOptions", map[string]any{"type": "color-background", "mode": "basic"})
}

// transform is a panel transformation.
func transform(id string, options map[string]any) dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: id, Options: options}
}

// organize orders and renames a table's columns (old name → new name in
// order) and hides the hidden ones.
func organize(columns [][2]string, hidden ...string) dashboard.DataTransformerConfig {
	index, rename, exclude := map[string]int{}, map[string]string{}, map[string]bool{}
	for i, c := range columns {
		index[c[0]] = i
		if c[1] != "" {
			rename[c[0]] = c[1]
		}
	}
	for _, h := range hidden {
		exclude[h] = true
	}
	return transform("organize", map[string]any{"indexByName": index, "renameByName": rename, "excludeByName": exclude})
}

// reduce is how stat panels turn a one-row table into values: every
// numeric column, last value.
func reduce() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false).Fields("/.*/")
}

// noFooter is a table footer that the SDK's strict parser accepts (its
// default has reducer: null).
func noFooter() *common.TableFooterOptionsBuilder {
	return common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{})
}

// seriesName labels a long result's series by a label column's value.
func seriesName(label string) string { return fmt.Sprintf("${__field.labels.%s}", label) }
