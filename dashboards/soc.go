package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/otsiem/otsiem/storage"
)

// soc is the SOC view: what breaks the declared conduits now.
func soc(b *board) *dashboard.DashboardBuilder {
	statPanel := func(title, desc, sql string, steps *dashboard.ThresholdsConfigBuilder) *stat.PanelBuilder {
		return stat.NewPanelBuilder().Id(b.id()).Title(title).Description(desc).Datasource(Datasource()).
			WithTarget(b.target(sql, FormatTable, Bind{"diodes": "1=1"})).
			ReduceOptions(reduce()).ColorMode(common.BigValueColorModeBackground).GraphMode(common.BigValueGraphModeNone).
			TextMode(common.BigValueTextModeValueAndName).Thresholds(steps).Height(5).Span(6)
	}
	return frame("otsiem · SOC — conduit violations",
		"Live view of traffic and findings that break the declared IEC 62443 zones and conduits.", "now-6h").
		WithVariable(severityVariable()).
		WithVariable(dashboard.NewTextBoxVariableBuilder("finding").Label("Finding").
			Description("A finding id: the table below it lists the events behind it (click a finding to set it).")).
		WithPanel(statPanel("Open findings",
			"Findings no analyst has acknowledged or closed since their last evidence (as `otsiem findings` says open), last seen in the range, by severity.",
			storage.QueryOpenFindingCounts.SQL, thresholds(colorOK, 1, colorHigh)).
			OverrideByName("critical", []dashboard.DynamicConfigValue{prop("thresholds", map[string]any{"mode": "absolute",
				"steps": []map[string]any{{"color": colorOK, "value": nil}, {"color": colorCritical, "value": 1}}})}).
			OverrideByName("medium", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": "transparent"})}).
			OverrideByName("low", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": "transparent"})})).
		WithPanel(statPanel("Policy-breaking events",
			"Events in the range that break the declared policy: violation, policy_drift or would_block.",
			storage.QueryPolicyBreakingEvents.SQL, thresholds(colorOK, 1, colorMedium))).
		WithPanel(statPanel("Diodes down now",
			"Data diodes with a side that sent no ok heartbeat in its last three intervals (silence counts as down), or that reports degraded.",
			storage.QueryDiodesDown.SQL, thresholds(colorOK, 1, colorCritical))).
		WithPanel(statPanel("Unmanaged addresses",
			"Distinct addresses in no declared zone seen in judged traffic (verdict unknown_zone): assets missing from the model.",
			storage.QueryUnmanagedAddresses.SQL, thresholds(colorOK, 1, colorMedium))).
		WithPanel(timeseries.NewPanelBuilder().Id(b.id()).Title("Policy-breaking events over time, by verdict").
			Description("violation: seen by a sensor or an off-path device; policy_drift: an enforcing firewall let it through; would_block: a monitor-mode firewall let it through. Logarithmic scale.").
			Datasource(Datasource()).
			WithTarget(b.target(storage.QueryPolicyBreakingSeries.SQL, FormatTimeSeries, nil)).
			DisplayName(seriesName("verdict")).DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			// a scan's burst next to a handful of violations: both readable
			ScaleDistribution(common.NewScaleDistributionConfigBuilder().Type(common.ScaleDistributionLog).Log(10)).
			Unit("short").
			OverrideByName("violation", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": colorHigh})}).
			OverrideByName("policy_drift", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": "purple"})}).
			OverrideByName("would_block", []dashboard.DynamicConfigValue{prop("color", map[string]any{"mode": "fixed", "fixedColor": colorMedium})}).
			Height(8).Span(16)).
		WithPanel(bargauge.NewPanelBuilder().Id(b.id()).Title("Top sources of violations").
			Description("Sources of policy-breaking events in the range, by asset name from the model (else address).").
			Datasource(Datasource()).
			WithTarget(b.target(storage.QueryTopViolationSources.SQL, FormatTable, Bind{"limit": "10"})).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Values(true).Fields("events").Calcs([]string{"lastNotNull"})).
			DisplayMode(common.BarGaugeDisplayModeBasic).Orientation(common.VizOrientationHorizontal).
			DisplayName("${__data.fields.source} (${__data.fields.zone})").ColorScheme(fixedColor(colorMedium)).Min(0).
			Height(8).Span(8)).
		WithPanel(liveFindings(b, "Findings as they happen",
			"Live from the correlator (otsiem's Grafana plugin over NATS): each new or changed finding of the selected "+
				"severities, zones and conduits appears the moment it is published, newest first; analyst states as of the last refresh.",
			[]string{"$severity"}).
			Height(8).Span(24)).
		WithPanel(table.NewPanelBuilder().Id(b.id()).Title("Latest open findings").
			Description("Open findings last seen in the range, most severe first. Click a finding to list the events behind it.").
			Datasource(Datasource()).
			WithTarget(b.target(storage.QueryOpenFindings.SQL, FormatTable, Bind{"limit": "100"})).
			Footer(noFooter()).CellHeight(common.TableCellHeightSm).
			WithTransformation(organize([][2]string{{"severity", "Severity"}, {"type", "Type"}, {"summary", "Summary"},
				{"conduit", "Conduit"}, {"source", "Source"}, {"src_zone", "Source zone"}, {"destination", "Destination"},
				{"dst_zone", "Destination zone"}, {"count", "Count"}, {"first_seen", "First seen"}, {"last_seen", "Last seen"},
				{"finding_id", "Finding"}})).
			OverrideByName("Severity", []dashboard.DynamicConfigValue{prop("mappings", severityMappings), cellColor(), prop("custom.width", 90)}).
			OverrideByName("Summary", []dashboard.DynamicConfigValue{prop("custom.minWidth", 320)}).
			OverrideByName("Finding", []dashboard.DynamicConfigValue{prop("links", []map[string]any{{
				"title": "Events behind this finding",
				"url":   "/d/otsiem-soc/?${__url_time_range}&${site:queryparam}&${zone:queryparam}&${conduit:queryparam}&${severity:queryparam}&var-finding=${__value.raw}",
			}})}).
			Height(12).Span(24)).
		WithPanel(table.NewPanelBuilder().Id(b.id()).Title("Events behind finding $finding").
			Description("The stored events a finding was raised from (its event ids), oldest first.").
			Datasource(Datasource()).
			WithTarget(b.target(storage.QueryFindingEvents.SQL, FormatTable, nil)).
			Footer(noFooter()).CellHeight(common.TableCellHeightSm).NoValue("Choose a finding above.").
			OverrideByName("message", []dashboard.DynamicConfigValue{prop("custom.minWidth", 400)}).
			OverrideByName("verdict", []dashboard.DynamicConfigValue{prop("mappings", verdictMappings), cellColor()}).
			Height(9).Span(24))
}

// verdictMappings colour verdicts: breaking the policy in warm colours,
// enforcement outcomes apart.
var verdictMappings = valueMappings(
	[3]string{"violation", "", colorHigh}, [3]string{"policy_drift", "", "purple"}, [3]string{"would_block", "", colorMedium},
	[3]string{"blocked", "", colorInfo}, [3]string{"false_block", "", colorLow}, [3]string{"allowed", "", colorOK},
	[3]string{"unknown_zone", "", colorMedium}, [3]string{"intra_zone", "", colorNeutral})
