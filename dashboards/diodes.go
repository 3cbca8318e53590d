package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/otsiem/otsiem/storage"
)

// diodeStateMappings name the states of storage.QueryDiodeStates.
var diodeStateMappings = valueMappings([3]string{"0", "down (silent)", colorHigh}, [3]string{"1", "ok", colorOK},
	[3]string{"2", "degraded", colorMedium})

// diodes is the health of the data diodes: state over time, heartbeats,
// lag, sequence gaps, and availability with silence counted as down.
func diodes(b *board) *dashboard.DashboardBuilder {
	diode := "SELECT diode FROM model_diodes WHERE model_hash = " + storage.CurrentModel + " ORDER BY diode"
	series := func(title, desc, sql, unit string) *timeseries.PanelBuilder {
		return timeseries.NewPanelBuilder().Id(b.id()).Title(title).Description(desc).Datasource(Datasource()).
			WithTarget(b.target(sql, FormatTimeSeries, nil)).DisplayName(seriesName("series")).
			LineInterpolation(common.LineInterpolationStepAfter).FillOpacity(10).Min(0).Unit(unit).Height(7).Span(8)
	}
	return frame("otsiem · Diode health",
		"Each side of each data diode of the model: its state over time, heartbeats, lag and sequence gaps, and its availability — silence counts as down.",
		"now-24h").
		WithVariable(listVariable("diode", "Diode", diode)).
		WithPanel(stat.NewPanelBuilder().Id(b.id()).Title("Availability in the range").
			Description("Share of the range's heartbeat intervals with an ok heartbeat (days cut into intervals of the longest declared heartbeat); a silent interval counts as down.").
			Datasource(Datasource()).
			WithTarget(b.target(storage.QueryDiodeAvailabilityTotal.SQL, FormatTable,
				Bind{"bucket": "(SELECT max(heartbeat_s) FROM model_diodes WHERE model_hash = " + storage.CurrentModel + ")"})).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Values(true).Fields("availability").Calcs([]string{"lastNotNull"})).
			DisplayName("${__data.fields.diode_id}").Unit("percentunit").Decimals(2).Min(0).Max(1).
			Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
				{Color: colorHigh}, {Value: floatPtr(0.9), Color: colorMedium}, {Value: floatPtr(0.99), Color: colorOK}})).
			ColorMode(common.BigValueColorModeBackground).GraphMode(common.BigValueGraphModeNone).Height(6).Span(8)).
		WithPanel(table.NewPanelBuilder().Id(b.id()).Title("Sides now").
			Description("At the end of the range: down when a side sent no ok heartbeat in its last three intervals, degraded when its last status is neither ok nor up.").
			Datasource(Datasource()).
			WithTarget(b.target(storage.QueryDiodeSides.SQL, FormatTable, nil)).Footer(noFooter()).
			WithTransformation(organize([][2]string{{"diode_id", "Diode"}, {"side", "Side"}, {"state", "State"},
				{"last_status", "Last status"}, {"last_heartbeat", "Last heartbeat"}, {"last_ok", "Last ok"},
				{"heartbeat_s", "Interval (s)"}, {"lag_ms", "Lag (ms)"}, {"bps", "Throughput"}})).
			OverrideByName("State", []dashboard.DynamicConfigValue{prop("mappings", valueMappings(
				[3]string{"ok", "", colorOK}, [3]string{"degraded", "", colorMedium}, [3]string{"down", "", colorHigh})), cellColor()}).
			OverrideByName("Throughput", []dashboard.DynamicConfigValue{prop("unit", "bps")}).
			Height(6).Span(16)).
		WithPanel(statetimeline.NewPanelBuilder().Id(b.id()).Title("State of each side").
			Description("Per interval: ok (an ok heartbeat), degraded (heartbeats, none ok), down (no heartbeat at all).").
			Datasource(Datasource()).
			WithTarget(b.target(storage.QueryDiodeStates.SQL, FormatTimeSeries, nil)).
			DisplayName(seriesName("series")).Mappings(diodeStateMappings).ShowValue(common.VisibilityModeNever).
			MergeValues(true).RowHeight(0.8).Height(6).Span(24)).
		WithPanel(series("Heartbeats", "Heartbeats received per interval, per side.", storage.QueryDiodeHeartbeatSeries.SQL, "short")).
		WithPanel(series("Lag", "Highest replication lag each side reported per interval.", storage.QueryDiodeLag.SQL, "ms")).
		WithPanel(series("Sequence gaps", "Heartbeat sequence numbers missed per interval: lost heartbeats on a live link.",
			storage.QueryDiodeSeqGaps.SQL, "short"))
}

func floatPtr(v float64) *float64 { return &v }
